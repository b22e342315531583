import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeLoopbackPort, loopbackPortOpen } from '@cairn/core/testkit';

const ETCDCTL = '/usr/bin/etcdctl';
const fromSources = fileURLToPath(import.meta.url).endsWith('.ts');
/** examples/custom-storage (from test/ or dist/test/): what the config's `use:` names by path. */
const exampleDirectory = join(dirname(fileURLToPath(import.meta.url)), fromSources ? '..' : '../..');

/** The directory of an installed package, found through its entry point (never a path into it). */
function packageRoot(name: string): string | undefined {
  let dir: string;
  try {
    dir = dirname(createRequire(import.meta.url).resolve(name));
  } catch {
    return undefined;
  }
  while (!existsSync(join(dir, 'package.json')) || (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name !== name) {
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
  return dir;
}

/** What the member needs built, with the command that builds it; the first missing one, if any. */
function missingBuild(): string | undefined {
  const built: [string, string | undefined][] = [
    ['@cairn/core', packageRoot('@cairn/core')],
    ['@cairn/api-grpc', packageRoot('@cairn/api-grpc')],
    ['@cairn/storage-leveldb', packageRoot('@cairn/storage-leveldb')],
    ['examples/custom-storage', exampleDirectory],
  ];
  for (const [name, root] of built) {
    if (root === undefined || !existsSync(join(root, 'dist', 'src', 'index.js'))) {
      return `${name} is not built (cd ${join(exampleDirectory, '..', '..')} && npx tsc -b core plugins/api-grpc plugins/storage-leveldb examples/custom-storage)`;
    }
  }
  return undefined;
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

interface KeyRevisions {
  readonly value: string;
  readonly create: number;
  readonly mod: number;
  readonly version: number;
}

/** Every key under `prefix` with its value and revisions, as etcdctl reads them. */
async function keysUnder(endpoint: string, prefix: string): Promise<Map<string, KeyRevisions>> {
  const reply = JSON.parse(await etcdctl(endpoint, ['get', prefix, '--prefix', '--write-out', 'json'])) as {
    kvs?: { key: string; value: string; create_revision: number; mod_revision: number; version: number }[];
  };
  return new Map(
    (reply.kvs ?? []).map((kv) => [
      Buffer.from(kv.key, 'base64').toString(),
      {
        value: Buffer.from(kv.value, 'base64').toString(),
        create: kv.create_revision,
        mod: kv.mod_revision,
        version: kv.version,
      },
    ]),
  );
}

const headerRevision = async (endpoint: string): Promise<number> =>
  (JSON.parse(await etcdctl(endpoint, ['endpoint', 'status', '--write-out', 'json'])) as { Status: { header: { revision: number } } }[])[0]!.Status.header
    .revision;

describe('a cairn member whose log, stable and snapshot stores come from the example, loaded by path (real process, real etcdctl)', function () {
  this.timeout(180_000);
  const directories: string[] = [];
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
    output = '';
    for (const dir of directories.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  before(function () {
    const missing = !existsSync(ETCDCTL) ? `${ETCDCTL} is not installed (apt-get install etcd-client)` : missingBuild();
    if (missing !== undefined) {
      console.log(`      skipped: ${missing}`);
      this.skip();
    }
  });

  /**
   * The real `cairn` command (the core's bin, built code) on `config`, from the example's directory
   * so package names resolve from it. Without the `source` condition tests may run under: the
   * built command loads built plugins, as an operator's would.
   */
  function spawnCairn(config: string): ChildProcess {
    const nodeOptions = (process.env['NODE_OPTIONS'] ?? '').replace(/(--conditions|-C)[= ]source\b/g, '').trim();
    const child = spawn(process.execPath, [join(packageRoot('@cairn/core')!, 'bin', 'cairn.js'), '--config-file', config], {
      cwd: exampleDirectory,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: nodeOptions },
    });
    children.push(child);
    child.stdout!.on('data', (b: Buffer) => {
      output += b.toString();
    });
    child.stderr!.on('data', (b: Buffer) => {
      output += b.toString();
    });
    return child;
  }

  async function start(config: string, clientPort: number): Promise<ChildProcess> {
    const child = spawnCairn(config);
    const deadline = Date.now() + 30_000;
    while (!(await loopbackPortOpen(clientPort))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`cairn did not start:\n${output.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return child;
  }

  /** Stops `child` by its PID with `signal`; resolves with its exit code (null when killed). */
  async function stop(child: ChildProcess, signal: 'SIGTERM' | 'SIGKILL'): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    process.kill(child.pid!, signal);
    return exited;
  }

  async function memberDirectory(plugins: string): Promise<{ directory: string; config: string; endpoint: string; clientPort: number }> {
    const directory = await mkdtemp(join(tmpdir(), 'cairn-example-member-'));
    directories.push(directory);
    const [clientPort, peerPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
    const endpoint = `127.0.0.1:${clientPort}`;
    const config = join(directory, 'cairn.yaml');
    await writeFile(
      config,
      [
        'name: n1',
        `data-dir: ${join(directory, 'data')}`,
        `listen-client-urls: http://${endpoint}`,
        `advertise-client-urls: http://${endpoint}`,
        `listen-peer-urls: http://127.0.0.1:${peerPort}`,
        `initial-advertise-peer-urls: http://127.0.0.1:${peerPort}`,
        `initial-cluster: n1=http://127.0.0.1:${peerPort}`,
        'heartbeat-interval: 10',
        'election-timeout: 100',
        plugins,
      ].join('\n'),
    );
    return { directory, config, endpoint, clientPort };
  }

  it("keeps every key and revision across a SIGTERM restart and a SIGKILL restart; log.dat lives in the example's directory and grows", async () => {
    // The three Raft stores from the example, by path; the backend from another plugin, by package name.
    const { directory, config, endpoint, clientPort } = await memberDirectory(
      [
        'plugins:',
        `  logStore: { use: "${exampleDirectory}" }`,
        `  stableStore: { use: "${exampleDirectory}" }`,
        `  snapshotStore: { use: "${exampleDirectory}", retainSnapshots: 3 }`,
        '  backend: { use: "@cairn/storage-leveldb" }',
        '  api:',
        '    - { use: "@cairn/api-grpc" }',
      ].join('\n'),
    );
    const storeDirectory = join(directory, 'data', 'file-storage');
    const logFile = join(storeDirectory, 'log.dat');

    let child = await start(config, clientPort);
    for (let i = 0; i < 10; i++) await etcdctl(endpoint, ['put', `key-${i}`, `first-${i}`]);
    const written = await keysUnder(endpoint, 'key-');
    expect([...written.keys()].sort()).to.have.length(10);
    expect((await readdir(storeDirectory)).sort()).to.include.members(['log.dat', 'snapshots', 'stable']);
    const sizeAfterTen = (await stat(logFile)).size;
    expect(sizeAfterTen, 'log.dat after 10 puts').to.be.greaterThan(0);
    for (let i = 0; i < 10; i++) await etcdctl(endpoint, ['put', `key-${i}`, `second-${i}`]);
    await etcdctl(endpoint, ['del', 'key-9']);
    const sizeAfterTwenty = (await stat(logFile)).size;
    expect(sizeAfterTwenty, `log.dat after 11 more writes (it was ${sizeAfterTen} bytes)`).to.be.greaterThan(sizeAfterTen);
    const beforeRestart = await keysUnder(endpoint, 'key-');
    const revision = await headerRevision(endpoint);
    expect(beforeRestart.get('key-3')).to.deep.include({ value: 'second-3', version: 2 });
    expect(beforeRestart.has('key-9')).to.equal(false);

    expect(await stop(child, 'SIGTERM'), 'exit code after SIGTERM').to.equal(0);
    child = await start(config, clientPort);
    expect(await keysUnder(endpoint, 'key-'), 'keys and revisions after a SIGTERM restart').to.deep.equal(beforeRestart);
    expect(await headerRevision(endpoint), 'store revision after a SIGTERM restart').to.equal(revision);

    await etcdctl(endpoint, ['put', 'key-0', 'third-0']);
    await etcdctl(endpoint, ['put', 'key-new', 'after-restart']);
    const beforeKill = await keysUnder(endpoint, 'key-');
    const killedAt = await headerRevision(endpoint);
    expect(killedAt).to.equal(revision + 2);
    expect((await stat(logFile)).size).to.be.greaterThan(sizeAfterTwenty);

    await stop(child, 'SIGKILL');
    child = await start(config, clientPort);
    expect(await keysUnder(endpoint, 'key-'), 'keys and revisions after a SIGKILL restart').to.deep.equal(beforeKill);
    expect(await headerRevision(endpoint), 'store revision after a SIGKILL restart').to.equal(killedAt);
    // The backend is the other plugin's, in its own directory.
    expect(await readdir(join(directory, 'data'))).to.include.members(['file-storage', 'leveldb']);
    expect(await stop(child, 'SIGTERM')).to.equal(0);
  });

  it('refuses an unknown option of the example plugin before starting, naming the config key (exit 2)', async () => {
    const { config } = await memberDirectory(
      [
        'plugins:',
        `  storage: { use: "@cairn/storage-leveldb" }`,
        `  logStore: { use: "${exampleDirectory}", dir: "elsewhere" }`,
        '  api:',
        '    - { use: "@cairn/api-grpc" }',
      ].join('\n'),
    );
    const child = spawnCairn(config);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code, output).to.equal(2);
    expect(output)
      .to.match(/plugins\.logStore/)
      .and.to.match(/dir/);
    console.log(`        refused: ${output.trim().split('\n')[0]}`);
  });
});
