import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { freeLoopbackPort, loopbackPortOpen, loopbackUrlFlags, TemporaryDirectories } from '@cairn/core/testkit';

export const ETCD_BIN = '/usr/bin/etcd';

/**
 * A real etcd 3.4 process on free 127.0.0.1 ports, for checking that the client works against
 * etcd as it does against Cairn. `EtcdProcessFixture.available()` says whether /usr/bin/etcd is
 * installed (suites skip with a printed reason when not). Stopped by its PID.
 */
export class EtcdProcessFixture {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    private readonly directories: TemporaryDirectories,
    readonly output: string[],
  ) {}

  static available(): boolean {
    return existsSync(ETCD_BIN);
  }

  static async start(extraFlags: readonly string[] = []): Promise<EtcdProcessFixture> {
    const directories = new TemporaryDirectories('cairn-client-etcd');
    const dataDir = await directories.make();
    const [client, peer] = [await freeLoopbackPort(), await freeLoopbackPort()];
    const child = spawn(
      ETCD_BIN,
      ['--name', 'e1', '--data-dir', dataDir, ...loopbackUrlFlags(client, peer), '--initial-cluster', `e1=http://127.0.0.1:${peer}`, ...extraFlags],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const output: string[] = [];
    child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const fixture = new EtcdProcessFixture(child, client, directories, output);
    const started = Date.now();
    while (!(await loopbackPortOpen(client))) {
      if (child.exitCode !== null || Date.now() - started > 15_000) {
        await fixture.close();
        throw new Error(`etcd did not start:\n${output.join('')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return fixture;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Freezes the process (SIGSTOP), as a stalled machine: connections stay open, nothing answers. */
  pause(): void {
    if (this.child.pid !== undefined) process.kill(this.child.pid, 'SIGSTOP');
  }

  /** Lets a paused process run again (SIGCONT). */
  resume(): void {
    if (this.child.pid !== undefined) process.kill(this.child.pid, 'SIGCONT');
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.pid !== undefined) {
      this.resume();
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      process.kill(this.child.pid, 'SIGTERM');
      await exited;
    }
    await this.directories.removeAll();
  }
}
