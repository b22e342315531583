import { spawn, type ChildProcess } from 'node:child_process';

/** A `curl -N` left running by a test (a watch, an SSE stream): its output as it arrives; stopped by its PID. */
export class CurlStream {
  private out = '';
  private readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    child.stdout!.on('data', (b: Buffer) => {
      this.out += b.toString();
    });
    this.exited = new Promise((done) => child.once('exit', (code) => done(code)));
  }

  /** `curl -sS -N [args]` with the real curl. */
  static start(args: readonly string[]): CurlStream {
    return new CurlStream(spawn('curl', ['-sS', '-N', ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  get stdout(): string {
    return this.out;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves once stdout satisfies `done`; rejects after `ms`, or if curl exits first. */
  async until(done: (stdout: string) => boolean, ms = 10_000): Promise<string> {
    const deadline = Date.now() + ms;
    while (!done(this.out)) {
      if (this.child.exitCode !== null) throw new Error(`curl exited (${this.child.exitCode}) early; stdout:\n${this.out}`);
      if (Date.now() > deadline) throw new Error(`curl's output never got there within ${ms} ms; stdout:\n${this.out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.out;
  }

  /** Resolves with curl's exit code once it ends by itself. */
  ended(): Promise<number | null> {
    return this.exited;
  }

  /** SIGTERM by PID; resolves once it is gone. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) process.kill(this.pid, 'SIGTERM');
    await this.exited;
  }
}

/** The JSON lines a `curl -N` of a gateway stream printed so far. */
export const jsonLines = (text: string): Record<string, unknown>[] =>
  text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

/** The SSE events printed so far: each event's fields (id, event, data), comments left out. */
export function sseEvents(text: string): Record<string, string>[] {
  return text
    .split('\n\n')
    .map((block) => {
      const fields: Record<string, string> = {};
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        fields[line.slice(0, colon)] = line.slice(colon + 1).trimStart();
      }
      return fields;
    })
    .filter((fields) => Object.keys(fields).length > 0);
}
