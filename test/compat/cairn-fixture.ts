import { Etcd3 } from 'etcd3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCairn, type ServerProcess } from './processes.js';

/** A cairn process for the enclosing describe block, with the etcd3 clients made on it. */
export interface CairnFixture {
  /** The running process (valid inside the block's hooks and tests). */
  readonly server: ServerProcess;
  /** A new etcd3 client on the process, closed after the block. */
  etcd3(): Etcd3;
}

/**
 * Registers before/after hooks in the calling describe block: a cairn process in a fresh temp dir
 * before its tests, and after them every client closed, the process stopped by PID, the dir removed.
 */
export function cairnProcessFixture(name: string, args: readonly string[] = []): CairnFixture {
  let dir: string | undefined;
  let server: ServerProcess | undefined;
  const clients: Etcd3[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), `cairn-${name}-`));
    server = await startCairn(join(dir, 'data'), [...args]);
  });
  after(async () => {
    for (const client of clients) client.close();
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });
  return {
    get server(): ServerProcess {
      if (server === undefined) throw new Error('the cairn fixture is used outside its describe block');
      return server;
    },
    etcd3(): Etcd3 {
      const client = new Etcd3({ hosts: this.server.endpoint });
      clients.push(client);
      return client;
    },
  };
}
