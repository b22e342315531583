import { spawn, type ChildProcess } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A script beside this file, as the running mode sees it: .ts under tsx, .js when compiled. */
export function siblingScript(name: string): string {
  return fileURLToPath(new URL(`./${name}${extname(fileURLToPath(import.meta.url))}`, import.meta.url));
}

/**
 * A child Node process running one of the test scripts with this process's loaders, its stdout
 * split into lines. Stopped by PID: `kill()` in the test's cleanup.
 */
export class ChildScript {
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private waiters: (() => void)[] = [];
  private ended = false;

  /** `wrapper`: a command to run Node under (e.g. strace and its options); `nodeArgs`: extra Node options. */
  constructor(script: string, args: readonly string[], options: { wrapper?: readonly string[]; nodeArgs?: readonly string[] } = {}) {
    const execArgv = [...process.execArgv.filter((a) => !/^--(inspect|debug)/.test(a)), ...(options.nodeArgs ?? [])];
    const [command, ...rest] = [...(options.wrapper ?? []), process.execPath];
    this.child = spawn(command!, [...rest, ...execArgv, siblingScript(script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    this.child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      partial += s;
      const parts = partial.split('\n');
      partial = parts.pop()!;
      this.lines.push(...parts);
      this.wake();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      this.stderr += s;
    });
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        this.ended = true;
        this.wake();
        resolve({ code, signal });
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves with the first line `test` accepts; rejects when the child ends first. */
  async waitFor(test: (line: string) => boolean): Promise<string> {
    for (;;) {
      const line = this.lines.find(test);
      if (line !== undefined) return line;
      if (this.ended) throw new Error(`child ended before the expected line; stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.ended && this.child.pid !== undefined) {
      try {
        process.kill(this.child.pid, signal);
      } catch {
        // already gone
      }
    }
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
