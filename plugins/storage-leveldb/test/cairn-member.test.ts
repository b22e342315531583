import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeLoopbackPort, loopbackPortOpen, TemporaryDirectories } from '@cairn/core/testkit';

const ETCDCTL = '/usr/bin/etcdctl';
const fromSources = fileURLToPath(import.meta.url).endsWith('.ts');
/** plugins/storage-leveldb (from test/ or dist/test/). */
const packageDirectory = join(dirname(fileURLToPath(import.meta.url)), fromSources ? '..' : '../..');

/** The root of the @cairn/core package (found through the package, never a path into it). */
function coreRoot(): string {
  let dir = dirname(createRequire(import.meta.url).resolve('@cairn/core'));
  while (!existsSync(join(dir, 'package.json')) || (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name !== '@cairn/core') {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the @cairn/core package');
    dir = up;
  }
  return dir;
}

/** The `cairn` server command: the package's bin when compiled; its sources under tsx when the tests run from sources. */
function cairnCommand(): string[] {
  const core = coreRoot();
  return fromSources
    ? [process.execPath, '--conditions=source', '--import=tsx', join(core, 'src', 'assembly', 'main.ts')]
    : [process.execPath, join(core, 'bin', 'cairn.js')];
}

/** The file a package name resolves to here, if that file exists (a workspace package may not be built). */
function resolvable(name: string): string | undefined {
  try {
    const file = createRequire(import.meta.url).resolve(name);
    return existsSync(file) ? file : undefined;
  } catch {
    return undefined;
  }
}

function etcdctl(endpoint: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      ETCDCTL,
      ['--endpoints', endpoint, '--dial-timeout', '5s', '--command-timeout', '10s', ...args],
      { env: { ...process.env, ETCDCTL_API: '3' } },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`etcdctl ${args.join(' ')}: ${stderr || err.message}`));
        else resolve(stdout);
      },
    );
  });
}

describe('a cairn member on @cairn/storage-leveldb (real process, real etcdctl)', function () {
  this.timeout(180_000);
  const temporary = new TemporaryDirectories();
  const children: ChildProcess[] = [];
  let output = '';

  afterEach(async function () {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        process.kill(child.pid, 'SIGKILL');
        await new Promise((resolve) => child.once('exit', resolve));
      }
    }
    if (this.currentTest?.state === 'failed') console.log(output.slice(-4000));
    await temporary.removeAll();
  });

  async function start(directory: string, clientPort: number): Promise<ChildProcess> {
    const [command, ...args] = cairnCommand();
    // From this package's directory, so `--import=tsx` resolves; every path in the config is absolute.
    const child = spawn(command!, [...args, '--config-file', join(directory, 'cairn.json')], { cwd: packageDirectory, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    child.stdout!.on('data', (b: Buffer) => {
      output += b.toString();
    });
    child.stderr!.on('data', (b: Buffer) => {
      output += b.toString();
    });
    const deadline = Date.now() + 30_000;
    while (!(await loopbackPortOpen(clientPort))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`cairn did not start:\n${output.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return child;
  }

  it('keeps every acknowledged put and delete through SIGKILLs, then compacts and defragments', async function () {
    if (!existsSync(ETCDCTL)) {
      console.log(`      skipped: ${ETCDCTL} is not installed (apt-get install etcd-client)`);
      this.skip();
    }
    const api = resolvable('@cairn/api-grpc');
    if (api === undefined) {
      console.log('      skipped: @cairn/api-grpc is not built (npx tsc -b plugins/api-grpc), and the member needs it to serve etcdctl');
      this.skip();
    }
    const directory = await temporary.make('member');
    const [clientPort, peerPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
    const endpoint = `127.0.0.1:${clientPort}`;
    await writeFile(
      join(directory, 'cairn.json'),
      JSON.stringify({
        name: 'n1',
        'data-dir': join(directory, 'data'),
        'listen-client-urls': `http://${endpoint}`,
        'advertise-client-urls': `http://${endpoint}`,
        'listen-peer-urls': `http://127.0.0.1:${peerPort}`,
        'initial-advertise-peer-urls': `http://127.0.0.1:${peerPort}`,
        'initial-cluster': `n1=http://127.0.0.1:${peerPort}`,
        // Small, so the member flushes the backend and compacts its log during the run.
        'snapshot-count': 10,
        plugins: { storage: { use: '@cairn/storage-leveldb', retainSnapshots: 2 }, api: [{ use: '@cairn/api-grpc' }] },
      }),
    );
    const acknowledged = new Map<string, string>();
    for (let round = 0; round < 3; round++) {
      const child = await start(directory, clientPort);
      for (const [key, value] of acknowledged)
        expect((await etcdctl(endpoint, ['get', key, '--print-value-only'])).trim(), `${key} after restart ${round}`).to.equal(value);
      for (let i = 0; i < 15; i++) {
        const key = `key-${i % 9}`;
        const value = `round-${round}-write-${i}`;
        await etcdctl(endpoint, ['put', key, value]);
        acknowledged.set(key, value);
      }
      await etcdctl(endpoint, ['del', `key-${round}`]);
      acknowledged.delete(`key-${round}`);
      process.kill(child.pid!, 'SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    await start(directory, clientPort);
    const listed = await etcdctl(endpoint, ['get', 'key-', '--prefix', '--write-out', 'json']);
    const kvs = (JSON.parse(listed) as { kvs?: { key: string; value: string }[] }).kvs ?? [];
    const got = new Map(kvs.map((kv) => [Buffer.from(kv.key, 'base64').toString(), Buffer.from(kv.value, 'base64').toString()]));
    expect([...got].sort()).to.deep.equal([...acknowledged].sort());
    await etcdctl(endpoint, [
      'compact',
      JSON.parse(await etcdctl(endpoint, ['endpoint', 'status', '--write-out', 'json']))[0].Status.header.revision.toString(),
    ]);
    expect(await etcdctl(endpoint, ['defrag'])).to.contain('Finished defragmenting');
    const status = JSON.parse(await etcdctl(endpoint, ['endpoint', 'status', '--write-out', 'json'])) as { Status: { dbSize: number } }[];
    expect(status[0]!.Status.dbSize).to.be.greaterThan(0);
    expect((await readdir(join(directory, 'data', 'leveldb'))).sort()).to.include.members(['backend', 'raft']);
  });
});
