import { spawn, type ChildProcess } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StorageChildTask } from './storage-child-task.js';

/** The runner script beside this module: .ts under a TypeScript loader, .js when compiled. */
const runnerPath = fileURLToPath(new URL(`./storage-child${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

/** This process's Node options minus debugger flags (a second process cannot take the same port). */
const childExecArgv = (): string[] => process.execArgv.filter((arg) => !/^--(inspect|debug)/.test(arg));

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface StorageChildOptions {
  /** Run the child under `strace` writing its trace to this file. */
  readonly strace?: { readonly binary: string; readonly traceFile: string; readonly syscalls: readonly string[] };
  /** Kill the child (by PID) after this long (default 60 s). */
  readonly timeoutMs?: number;
}

/**
 * A child process running storage-child with one task: its stdout lines as they arrive, its
 * stderr for failure messages, and its exit. Under strace, the PID of the traced Node process
 * (from its `ready` line) is killed too.
 */
export class StorageChildProcess {
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<ChildExit>;
  private readonly process: ChildProcess;
  private nodePid: number | undefined;
  private waiters: (() => void)[] = [];
  private exit: ChildExit | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly task: StorageChildTask,
    options: StorageChildOptions = {},
  ) {
    const nodeArgs = [...childExecArgv(), runnerPath, JSON.stringify(task)];
    const strace = options.strace;
    const [command, args] =
      strace === undefined
        ? [process.execPath, nodeArgs]
        : [
            strace.binary,
            ['-f', '-y', '-s', '65536', '--seccomp-bpf', '-o', strace.traceFile, '-e', `trace=${strace.syscalls.join(',')}`, process.execPath, ...nodeArgs],
          ];
    this.process = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    if (strace === undefined) this.nodePid = this.process.pid;
    let partial = '';
    this.process.stdout!.setEncoding('utf8').on('data', (text: string) => {
      partial += text;
      let nl: number;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        this.lines.push(line);
        const ready = /^ready (\d+)$/.exec(line);
        if (ready !== null) this.nodePid = Number(ready[1]);
      }
      this.wake();
    });
    this.process.stderr!.setEncoding('utf8').on('data', (text: string) => {
      if (this.stderr.length < 64 * 1024) this.stderr += text;
    });
    this.exited = new Promise<ChildExit>((resolve) => {
      // 'close': the process exited and its stdout was read to the end.
      this.process.on('close', (code, signal) => {
        clearTimeout(this.timer);
        this.exit = { code, signal };
        this.wake();
        resolve(this.exit);
      });
      this.process.on('error', (err) => {
        this.stderr += `\nspawn ${command}: ${err.message}`;
      });
    });
    this.timer = setTimeout(() => {
      this.stderr += `\n(killed after ${options.timeoutMs ?? 60_000} ms)`;
      this.kill();
    }, options.timeoutMs ?? 60_000);
  }

  /** Numbers of the `ack` lines so far, in order. */
  get acks(): number[] {
    return this.lines.flatMap((line) => {
      const m = /^ack (\d+)$/.exec(line);
      return m === null ? [] : [Number(m[1])];
    });
  }

  /** The last acknowledged operation (0 when none). */
  get acknowledged(): number {
    const acks = this.acks;
    return acks.length === 0 ? 0 : acks[acks.length - 1]!;
  }

  /** Resolves once `condition` holds; rejects when the child exits first. */
  async waitFor(condition: () => boolean, what: string): Promise<void> {
    while (!condition()) {
      if (this.exit !== undefined) throw new Error(`the storage child exited (${this.describeExit()}) before ${what}${this.stderrSuffix()}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** SIGKILL the child (and the traced Node process under strace), by PID. */
  kill(): void {
    for (const pid of new Set([this.nodePid, this.process.pid])) {
      if (pid === undefined || this.exit !== undefined) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }

  describeExit(): string {
    const e = this.exit;
    if (e === undefined) return 'still running';
    return e.signal !== null ? `killed by ${e.signal}` : `exit code ${e.code}`;
  }

  stderrSuffix(): string {
    const text = this.stderr.trim();
    return text === '' ? '' : `; its stderr:\n${text.slice(-4000)}`;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** Runs `task` to its end; rejects unless it exits with code 0. */
export async function runStorageChild(task: StorageChildTask, options: StorageChildOptions = {}): Promise<StorageChildProcess> {
  const child = new StorageChildProcess(task, options);
  try {
    const exit = await child.exited;
    if (exit.code !== 0) throw new Error(`the storage child (${task.task}) failed: ${child.describeExit()}${child.stderrSuffix()}`);
    return child;
  } finally {
    child.kill();
  }
}
