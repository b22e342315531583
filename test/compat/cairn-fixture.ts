import { Etcd3 } from 'etcd3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeMemberPorts, startCairn, startEtcd, type MemberPorts, type ServerProcess, skipWithoutEtcdctl } from './processes.js';

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

/** A cairn process and, when installed, a real etcd 3.4 beside it, for side-by-side etcdctl suites. */
export interface SideBySideFixture {
  readonly cairn: ServerProcess;
  /** Undefined when /usr/bin/etcd is missing: outputs are then checked against expectations only. */
  readonly etcd: ServerProcess | undefined;
  /** The block's temp dir (data dirs live in it; a test may put files there). */
  readonly dir: string;
  /** Stop cairn by PID and start it again on the same data dir and ports. */
  restartCairn(): Promise<ServerProcess>;
}

/**
 * Registers before/after hooks in the calling describe block: skipped, saying why, without the
 * real etcdctl; otherwise a cairn process and a real etcd in a fresh temp dir, both stopped by PID
 * and the dir removed after the block.
 */
export function cairnBesideEtcdFixture(name: string): SideBySideFixture {
  let dir: string | undefined;
  let cairn: ServerProcess | undefined;
  let etcd: ServerProcess | undefined;
  let ports: MemberPorts | undefined;
  const needed = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the side-by-side fixture is used outside its describe block');
    return value;
  };
  before(async function () {
    skipWithoutEtcdctl(this);
    dir = await mkdtemp(join(tmpdir(), `cairn-${name}-`));
    ports = await freeMemberPorts();
    cairn = await startCairn(join(dir, 'cairn.data'), [], ports);
    etcd = await startEtcd(join(dir, 'etcd.data'));
    if (etcd === undefined) console.log('      (no /usr/bin/etcd: outputs are checked against expectations only, not side by side)');
  });
  after(async () => {
    await cairn?.stop();
    await etcd?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });
  return {
    get cairn() {
      return needed(cairn);
    },
    get etcd() {
      return etcd;
    },
    get dir() {
      return needed(dir);
    },
    async restartCairn() {
      await needed(cairn).stop();
      cairn = await startCairn(join(needed(dir), 'cairn.data'), [], needed(ports));
      return cairn;
    },
  };
}
