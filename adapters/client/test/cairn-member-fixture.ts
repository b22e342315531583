import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunningMember } from '@cairn/core';
import { freeLoopbackPort, startTestMember, TemporaryDirectories } from '@cairn/core/testkit';
import { Client, type ClientOptions } from '../src/index.js';

/** Where plugin names in the member's config resolve from: this package (its devDependencies). */
const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface CairnMemberFixtureOptions {
  /** Keep the data on disk (@cairn/storage-lmdb) so that `restart()` finds it again; default: in memory. */
  readonly durable?: boolean;
  /** More etcd-style config keys for the member. */
  readonly config?: Readonly<Record<string, unknown>>;
  /** Serve clients over TLS (`https://`); give the certificate keys (`cert-file`, `key-file`…) in `config`. */
  readonly https?: boolean;
}

/**
 * One Cairn member in this process, serving etcd's gRPC API on a free 127.0.0.1 port, and clients
 * of it. `stop()`/`start()` take it down and bring it back on the same port and data directory;
 * `close()` stops it, closes every client made here and removes the data.
 */
export class CairnMemberFixture {
  private member: RunningMember | undefined;
  private readonly clients: Client[] = [];

  private constructor(
    readonly port: number,
    readonly dataDir: string,
    private readonly options: CairnMemberFixtureOptions,
    private readonly directories: TemporaryDirectories,
  ) {}

  static async start(options: CairnMemberFixtureOptions = {}): Promise<CairnMemberFixture> {
    const directories = new TemporaryDirectories('cairn-client');
    const fixture = new CairnMemberFixture(await freeLoopbackPort(), await directories.make(), options, directories);
    await fixture.start();
    return fixture;
  }

  /** `http://127.0.0.1:<port>` (`https://` with `https: true`). */
  get endpoint(): string {
    return `${this.options.https === true ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.member !== undefined;
  }

  /** Starts the member (again) on the same port and data directory. */
  async start(): Promise<void> {
    if (this.member !== undefined) return;
    const url = this.endpoint;
    const plugins: Record<string, unknown> = { api: [{ use: '@cairn/api-grpc' }] };
    if (this.options.durable === true) plugins['storage'] = { use: '@cairn/storage-lmdb' };
    this.member = await startTestMember({
      dataDir: this.dataDir,
      baseDir: PACKAGE_DIR,
      config: { 'listen-client-urls': url, 'advertise-client-urls': url, ...this.options.config, plugins },
    });
  }

  async stop(): Promise<void> {
    const member = this.member;
    this.member = undefined;
    await member?.stop();
  }

  /** A client of this member (closed by `close()`); `endpoints` defaults to this member's. */
  client(options: ClientOptions = {}): Client {
    const client = new Client({ endpoints: [this.endpoint], ...options });
    this.clients.push(client);
    return client;
  }

  async close(): Promise<void> {
    for (const client of this.clients.splice(0)) await client.close();
    await this.stop();
    await this.directories.removeAll();
  }
}
