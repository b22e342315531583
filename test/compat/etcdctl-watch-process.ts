import { spawn, type ChildProcess } from 'node:child_process';
import { ETCDCTL_BIN } from './processes.js';

/**
 * A long-running `etcdctl watch` started by a test: its output is collected as it comes, its
 * stdin stays open for interactive commands, and it is stopped by its PID.
 */
export class EtcdctlWatch {
  private out = '';
  private err = '';
  private readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    child.stdout!.on('data', (b: Buffer) => { this.out += b.toString(); });
    child.stderr!.on('data', (b: Buffer) => { this.err += b.toString(); });
    this.exited = new Promise((done) => child.once('exit', (code) => done(code)));
  }

  static start(endpoint: string, args: readonly string[]): EtcdctlWatch {
    const child = spawn(ETCDCTL_BIN, [`--endpoints=${endpoint}`, '--dial-timeout=3s', 'watch', ...args], {
      env: { ...process.env, ETCDCTL_API: '3' }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new EtcdctlWatch(child);
  }

  get stdout(): string {
    return this.out;
  }

  get stderr(): string {
    return this.err;
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** Resolves once stdout contains `text` (or the process exits); rejects after `ms`. */
  async waitFor(text: string, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.out.includes(text)) {
      if (this.child.exitCode !== null) return;
      if (Date.now() > deadline) throw new Error(`etcdctl watch never printed ${JSON.stringify(text)}; stdout:\n${this.out}\nstderr:\n${this.err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Resolves with the exit code once the process ends by itself (within `ms`). */
  async exit(ms = 10_000): Promise<number | null> {
    const timer = setTimeout(() => this.stop(), ms);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  /** SIGTERM by PID; resolves once it is gone. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) process.kill(this.child.pid!, 'SIGTERM');
    await this.exited;
  }
}
