import { spawn, type ChildProcess } from 'node:child_process';
import { ETCDCTL_BIN } from './processes.js';

/**
 * A long-running etcdctl started by a test (`lock`, `elect`, `watch`, ...): its output is collected
 * as it comes, its stdin stays open, and it is stopped by its PID.
 */
export class EtcdctlProcess {
  private out = '';
  private err = '';
  private readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    child.stdout!.on('data', (b: Buffer) => {
      this.out += b.toString();
    });
    child.stderr!.on('data', (b: Buffer) => {
      this.err += b.toString();
    });
    this.exited = new Promise((done) => child.once('exit', (code) => done(code)));
  }

  /** `etcdctl --endpoints=<endpoints> <args...>` with the v3 API. */
  static start(endpoints: string, args: readonly string[]): EtcdctlProcess {
    const child = spawn(ETCDCTL_BIN, [`--endpoints=${endpoints}`, '--dial-timeout=3s', ...args], {
      env: { ...process.env, ETCDCTL_API: '3' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new EtcdctlProcess(child);
  }

  get stdout(): string {
    return this.out;
  }

  get stderr(): string {
    return this.err;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /**
   * Resolves once stdout contains `text`; rejects after `ms`, or when the process exits without it
   * (unless `orExit`: then an exit resolves too, for callers that compare whatever was printed).
   */
  async waitFor(text: string, ms = 10_000, orExit = false): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.out.includes(text)) {
      if (!this.running && orExit) return;
      if (!this.running) throw new Error(`etcdctl exited without printing ${JSON.stringify(text)}; stdout:\n${this.out}\nstderr:\n${this.err}`);
      if (Date.now() > deadline) throw new Error(`etcdctl never printed ${JSON.stringify(text)} within ${ms} ms; stdout:\n${this.out}\nstderr:\n${this.err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Resolves with the exit code once the process ends by itself; SIGTERM after `ms`. */
  async exit(ms = 10_000): Promise<number | null> {
    const timer = setTimeout(() => void this.stop(), ms);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  /** SIGTERM by PID (etcdctl then releases what it holds); resolves once it is gone. */
  async stop(): Promise<void> {
    if (this.running) process.kill(this.child.pid!, 'SIGTERM');
    await this.exited;
  }

  /** SIGKILL by PID: a crash, nothing released. */
  async kill(): Promise<void> {
    if (this.running) process.kill(this.child.pid!, 'SIGKILL');
    await this.exited;
  }
}
