import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { freeLoopbackPort, processAlive, TemporaryDirectories } from '@cairn/core/testkit';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));

/** The service as `npm start` runs it, on a port and data dir of the test's. */
class RunningService {
  private output = '';
  readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static async start(port: number, dataDir: string): Promise<RunningService> {
    const child = spawn(process.execPath, [MAIN], { env: { ...process.env, PORT: String(port), CAIRN_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    const service = new RunningService(child);
    const deadline = Date.now() + 30_000;
    while (!service.output.includes('embedded-service: serving')) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the service did not start:\n${service.output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return service;
  }

  /** SIGTERM by PID; resolves with the exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && processAlive(this.child.pid!)) process.kill(this.child.pid!, 'SIGTERM');
    return this.exited;
  }

  kill(): void {
    if (this.child.exitCode === null && processAlive(this.child.pid!)) process.kill(this.child.pid!, 'SIGKILL');
  }
}

async function call(port: number, method: 'GET' | 'POST', path: string): Promise<{ status: number; body: { value?: string; error?: string } }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: response.status, body: (await response.json()) as { value?: string; error?: string } };
}

describe('examples/embedded-service: counters under a Mutex in an embedded member', function () {
  this.timeout(90_000);
  const dirs = new TemporaryDirectories('cairn-example-embedded');
  const started: RunningService[] = [];

  afterEach(() => {
    for (const service of started.splice(0)) service.kill();
  });
  after(() => dirs.removeAll());

  it('counts concurrent increments exactly, stops cleanly on SIGTERM and keeps its counts across a restart', async () => {
    const dataDir = await dirs.make('data');
    const port = await freeLoopbackPort();
    const first = await RunningService.start(port, dataDir);
    started.push(first);

    const increments = await Promise.all(Array.from({ length: 12 }, () => call(port, 'POST', '/counters/visits')));
    expect(increments.every((r) => r.status === 200)).to.equal(true);
    // Each increment saw its own value: 1..12, none lost, none twice.
    expect(increments.map((r) => Number(r.body.value)).sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 12 }, (_, i) => i + 1));
    expect((await call(port, 'GET', '/counters/visits')).body.value).to.equal('12');
    expect((await call(port, 'GET', '/counters/Not_Valid')).status).to.equal(400);
    expect(await first.stop()).to.equal(0);

    const second = await RunningService.start(port, dataDir);
    started.push(second);
    expect((await call(port, 'GET', '/counters/visits')).body.value).to.equal('12');
    expect((await call(port, 'POST', '/counters/visits')).body.value).to.equal('13');
    expect(await second.stop()).to.equal(0);
  });
});
