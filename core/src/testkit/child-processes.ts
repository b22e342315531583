import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** How a command ended: its exit code (1 when it was killed or could not start) and its output. */
export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run `command` to its end (killed after `timeoutMs`); never rejects, the code says how it went. */
export function runCommand(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 90_000): Promise<CommandResult> {
  return new Promise((done) => {
    execFile(command, args, { env, timeout: timeoutMs }, (err, stdout, stderr) =>
      done({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }),
    );
  });
}

/** Whether `pid` still runs (a zombie, exited but not yet reaped by whoever adopted it, does not). */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
