import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort, loopbackPortOpen } from '@cairn/core/testkit';

/** Debian's nats-server (apt-get install nats-server). */
export const NATS_SERVER_BIN = '/usr/sbin/nats-server';

/** In a before hook: skip the block, saying why, when the nats-server binary is not installed. */
export function skipWithoutNatsServer(context: Mocha.Context): void {
  if (existsSync(NATS_SERVER_BIN)) return;
  console.log(`      skipped: ${NATS_SERVER_BIN} is missing (apt-get install nats-server)`);
  context.skip();
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * One real nats-server on a loopback port, for tests: started and stopped by its PID. Its config
 * file lives in `dir`; `kill` then `start` brings it back on the same port (with the same routes),
 * `reload` rewrites the config and sends SIGHUP.
 */
export class NatsServerProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly output: string[] = [];

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly dir: string,
    /** nats-server config text beside its name and listen address (routes, authorization, limits). */
    private config = '',
    /** Whether `stop` removes `dir` (a temporary directory of the server's own). */
    private readonly ownsDir = false,
  ) {}

  /** One server alone, in a temporary directory that `stop` removes. */
  static async startAlone(config = ''): Promise<NatsServerProcess> {
    const dir = await mkdtemp(join(tmpdir(), 'cairn-nats-'));
    const server = new NatsServerProcess('nats', await freeLoopbackPort(), dir, config, true);
    try {
      await server.start();
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** What the server printed, the last 200 kB. */
  log(): string {
    return this.output.join('').slice(-200_000);
  }

  private get configFile(): string {
    return join(this.dir, `${this.name}.conf`);
  }

  private writeConfig(): Promise<void> {
    return writeFile(this.configFile, `server_name: ${this.name}\nlisten: 127.0.0.1:${this.port}\n${this.config}\n`);
  }

  /** Starts it (again, after `kill`), resolving once it accepts connections. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    await this.writeConfig();
    const child = spawn(NATS_SERVER_BIN, ['-c', this.configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.output.push(`--- start ${this.name} pid ${child.pid}\n`);
    child.stdout?.on('data', (b: Buffer) => this.output.push(b.toString()));
    child.stderr?.on('data', (b: Buffer) => this.output.push(b.toString()));
    this.exited = new Promise((done) => child.once('exit', () => done()));
    const deadline = Date.now() + 10_000;
    while (!(await loopbackPortOpen(this.port))) {
      if (!this.running || Date.now() > deadline) {
        await this.kill();
        throw new Error(`${this.name} did not start on ${this.url}:\n${this.log()}`);
      }
      await sleep(20);
    }
  }

  /** Rewrites the config and has the server reload it (SIGHUP). */
  async reload(config: string): Promise<void> {
    this.config = config;
    await this.writeConfig();
    if (this.running) process.kill(this.child!.pid!, 'SIGHUP');
  }

  /** SIGKILL by PID: gone at once, its clients see their connections reset. */
  async kill(): Promise<void> {
    if (this.running) process.kill(this.child!.pid!, 'SIGKILL');
    await this.exited;
  }

  /** SIGTERM by PID (SIGKILL after 5 s); then its own directory goes. */
  async stop(): Promise<void> {
    if (this.running) {
      process.kill(this.child!.pid!, 'SIGTERM');
      const timer = setTimeout(() => {
        if (this.running) process.kill(this.child!.pid!, 'SIGKILL');
      }, 5_000);
      await this.exited;
      clearTimeout(timer);
    }
    if (this.ownsDir) await rm(this.dir, { recursive: true, force: true });
  }
}
