import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeLoopbackPort, loopbackPortOpen, loopbackUrlFlags } from '@cairn/core/testkit';

const here = dirname(fileURLToPath(import.meta.url));
/** The `cairn` command of this checkout (test/dist/compat → repo root). */
export const CAIRN_BIN = resolve(here, '../../../core/bin/cairn.js');
export const ETCD_BIN = '/usr/bin/etcd';
export const ETCDCTL_BIN = '/usr/bin/etcdctl';

/**
 * In a before hook: skip the block, saying why, when the real etcdctl is not installed (the test
 * setup installs etcd-client when it can). `because` adds what the block needs it for.
 */
export function skipWithoutEtcdctl(context: Mocha.Context, because?: string): void {
  if (existsSync(ETCDCTL_BIN)) return;
  console.log(`      skipped: ${ETCDCTL_BIN} is missing (apt-get install etcd-client)${because === undefined ? '' : `; ${because}`}`);
  context.skip();
}

/** A server process started by a test, stopped by the test by its PID. */
export class ServerProcess {
  private readonly output: string[] = [];
  private exited: Promise<number | null>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly endpoint: string,
  ) {
    child.stdout?.on('data', (b: Buffer) => this.output.push(b.toString()));
    child.stderr?.on('data', (b: Buffer) => this.output.push(b.toString()));
    this.exited = new Promise((done) => child.once('exit', (code) => done(code)));
  }

  static async start(name: string, command: string, args: string[], clientPort: number, cwd: string): Promise<ServerProcess> {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new ServerProcess(name, child, `127.0.0.1:${clientPort}`);
    const deadline = Date.now() + 20_000;
    while (!(await loopbackPortOpen(clientPort))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await server.stop();
        throw new Error(`${name} did not start serving on ${server.endpoint}:\n${server.log()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return server;
  }

  get pid(): number {
    return this.child.pid!;
  }

  log(): string {
    return this.output.join('');
  }

  /** SIGKILL by PID (a crash: nothing is flushed); resolves once the process is gone. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) process.kill(this.pid, 'SIGKILL');
    await this.exited;
  }

  /** SIGTERM by PID, then SIGKILL if it has not exited within 10 s; resolves with the exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      process.kill(this.pid, 'SIGTERM');
      const timer = setTimeout(() => {
        if (this.child.exitCode === null) process.kill(this.pid, 'SIGKILL');
      }, 10_000);
      const code = await this.exited;
      clearTimeout(timer);
      return code;
    }
    return this.exited;
  }
}

/** Loopback ports for one member; keep them to restart the member where its clients expect it. */
export interface MemberPorts {
  readonly client: number;
  readonly peer: number;
}

export async function freeMemberPorts(): Promise<MemberPorts> {
  return { client: await freeLoopbackPort(), peer: await freeLoopbackPort() };
}

/** A single Cairn member on loopback ports with fast elections. */
export async function startCairn(dataDir: string, extra: string[] = [], ports?: MemberPorts): Promise<ServerProcess> {
  const { client, peer } = ports ?? (await freeMemberPorts());
  return ServerProcess.start(
    'cairn',
    process.execPath,
    [CAIRN_BIN, '--data-dir', dataDir, ...loopbackUrlFlags(client, peer), '--heartbeat-interval', '10', '--election-timeout', '100', ...extra],
    client,
    dirname(dataDir),
  );
}

/** A single real etcd 3.4 member on loopback ports (with `extra` flags), or undefined when etcd is not installed. */
export async function startEtcd(dataDir: string, extra: readonly string[] = []): Promise<ServerProcess | undefined> {
  if (!existsSync(ETCD_BIN)) return undefined;
  const client = await freeLoopbackPort();
  const peer = await freeLoopbackPort();
  return ServerProcess.start(
    'etcd',
    ETCD_BIN,
    [
      '--data-dir',
      dataDir,
      ...loopbackUrlFlags(client, peer),
      '--initial-cluster',
      `default=http://127.0.0.1:${peer}`,
      '--heartbeat-interval',
      '10',
      '--election-timeout',
      '100',
      '--log-level',
      'error',
      ...extra,
    ],
    client,
    dirname(dataDir),
  );
}
