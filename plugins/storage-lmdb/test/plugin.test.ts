import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Container } from 'inversify';
import {
  BACKEND,
  LOG_STORE,
  SNAPSHOT_STORE,
  STABLE_STORE,
  type Backend,
  type LogStore,
  type PluginContext,
  type PortName,
  type SnapshotStore,
  type StableStore,
} from '@cairn/core';
import { pluginContext, pluginTestContainer, rejection, TemporaryDirectories } from '@cairn/core/testkit';
import plugin, {
  createLmdbStorage,
  LmdbBackend,
  LmdbEnvironment,
  LmdbLogStore,
  LmdbSnapshotStore,
  LmdbStableStore,
  plugin as namedPlugin,
} from '../src/index.js';
import { bytes, entries, text } from './test-data.js';
import { freeLoopbackPort, loopbackPortOpen, loopbackUrlFlags } from '@cairn/core/testkit';

const STORAGE_PORTS: PortName[] = ['logStore', 'stableStore', 'snapshotStore', 'backend'];

const contextFor = (dataDir: string, ports: PortName[]): PluginContext => pluginContext(dataDir, { ports });

/** The environment a store was given (a private field: the container is what is under test). */
const environmentOf = (store: unknown): LmdbEnvironment => (store as { env: LmdbEnvironment }).env;

describe('@cairn/storage-lmdb plugin', () => {
  const dirs = new TemporaryDirectories();
  afterEach(() => dirs.removeAll());

  it('is the default export and the named export `plugin`, and provides the four storage ports', () => {
    expect(namedPlugin).to.equal(plugin);
    expect(plugin.manifest.name).to.equal('@cairn/storage-lmdb');
    expect(plugin.manifest.provides).to.deep.equal(STORAGE_PORTS);
  });

  it('has an options schema that refuses unknown keys and gives safe defaults', () => {
    const schema = plugin.manifest.optionsSchema as { additionalProperties: unknown; properties: Record<string, { type: string; default?: unknown }> };
    expect(schema.additionalProperties).to.equal(false);
    expect(schema.properties['directory']).to.include({ type: 'string', default: 'lmdb' });
    expect(schema.properties['mapSize']).to.include({ type: 'integer' });
    expect(schema.properties['noSync']).to.include({ type: 'boolean', default: false });
    expect(schema.properties['retainSnapshots']).to.include({ type: 'integer', default: 2 });
    expect(schema.properties['verifyOnOpen']).to.include({ type: 'boolean', default: true });
  });

  it('binds the chosen ports, all on one environment under the data directory', async () => {
    const dataDir = await dirs.make('plugin');
    const container = new Container();
    await container.load(plugin.createModule({ noSync: true }, contextFor(dataDir, STORAGE_PORTS)));
    const log = container.get<LogStore>(LOG_STORE);
    const stable = container.get<StableStore>(STABLE_STORE);
    const snapshots = container.get<SnapshotStore>(SNAPSHOT_STORE);
    const backend = container.get<Backend>(BACKEND);
    expect(log).to.be.instanceOf(LmdbLogStore);
    expect(stable).to.be.instanceOf(LmdbStableStore);
    expect(snapshots).to.be.instanceOf(LmdbSnapshotStore);
    expect(backend).to.be.instanceOf(LmdbBackend);
    for (const port of [log, stable, snapshots, backend]) await port.open();
    await log.append(entries(1, 2, 1));
    await backend.write([{ type: 'put', key: bytes('k'), value: bytes('v') }]);
    for (const port of [log, stable, snapshots, backend]) await port.close();
    expect(readFileSync(join(dataDir, 'lmdb', 'data.mdb')).length).to.be.greaterThan(0);
    // One environment: reopened together, both are there.
    const again = createLmdbStorage(join(dataDir, 'lmdb'));
    await again.logStore.open();
    await again.backend.open();
    expect(again.logStore.lastIndex()).to.equal(2);
    expect(text(await again.backend.get(bytes('k')))).to.equal('v');
    await again.logStore.close();
    await again.backend.close();
  });

  it('resolves the four port tokens in a container holding what the core binds, the container building one environment for them', async () => {
    const dataDir = await dirs.make('plugin-container');
    const container = pluginTestContainer();
    await container.loadAsync(plugin.createModule({ noSync: true }, contextFor(dataDir, STORAGE_PORTS)));
    const stores = [LOG_STORE, STABLE_STORE, SNAPSHOT_STORE, BACKEND].map((token) => container.get(token));
    expect(stores.map((s) => (s as object).constructor)).to.deep.equal([LmdbLogStore, LmdbStableStore, LmdbSnapshotStore, LmdbBackend]);
    expect(container.get(LOG_STORE)).to.equal(stores[0]);
    const environment = environmentOf(stores[0]);
    expect(environment).to.be.instanceOf(LmdbEnvironment);
    expect(environment.directory).to.equal(join(dataDir, 'lmdb'));
    for (const store of stores) expect(environmentOf(store)).to.equal(environment);
  });

  it("chosen in two entries with two directories, gives each entry's stores their own environment in one container", async () => {
    const dataDir = await dirs.make('plugin-twice');
    const container = pluginTestContainer();
    await container.loadAsync(plugin.createModule({ directory: 'raft', noSync: true }, contextFor(dataDir, ['logStore'])));
    await container.loadAsync(plugin.createModule({ noSync: true }, contextFor(dataDir, ['stableStore', 'snapshotStore', 'backend'])));
    const log = container.get<LogStore>(LOG_STORE);
    const stable = container.get<StableStore>(STABLE_STORE);
    const snapshots = container.get<SnapshotStore>(SNAPSHOT_STORE);
    const backend = container.get<Backend>(BACKEND);
    expect(environmentOf(log).directory).to.equal(join(dataDir, 'raft'));
    expect(environmentOf(backend).directory).to.equal(join(dataDir, 'lmdb'));
    expect(environmentOf(stable)).to.equal(environmentOf(backend));
    expect(environmentOf(snapshots)).to.equal(environmentOf(backend));
    for (const store of [log, stable, snapshots, backend]) await store.open();
    await log.append(entries(1, 2, 1));
    await backend.write([{ type: 'put', key: bytes('k'), value: bytes('v') }]);
    for (const store of [log, stable, snapshots, backend]) await store.close();
    expect(existsSync(join(dataDir, 'raft', 'data.mdb'))).to.equal(true);
    expect(existsSync(join(dataDir, 'lmdb', 'data.mdb'))).to.equal(true);
  });

  it('binds only the ports the config chose it for, in the directory its options name', async () => {
    const dataDir = await dirs.make('plugin-ports');
    const container = new Container();
    await container.load(plugin.createModule({ directory: 'raft', noSync: true }, contextFor(dataDir, ['logStore', 'stableStore'])));
    expect(container.isBound(LOG_STORE)).to.equal(true);
    expect(container.isBound(STABLE_STORE)).to.equal(true);
    expect(container.isBound(SNAPSHOT_STORE)).to.equal(false);
    expect(container.isBound(BACKEND)).to.equal(false);
    const log = container.get<LogStore>(LOG_STORE);
    await log.open();
    await log.close();
    expect(existsSync(join(dataDir, 'raft', 'data.mdb'))).to.equal(true);
  });

  it('holding the stable state but not the log, refuses a data dir whose Raft log it holds, and opens one without', async () => {
    const dataDir = await dirs.make('plugin-log-elsewhere');
    const all = new Container();
    await all.load(plugin.createModule({ noSync: true, verifyOnOpen: false }, contextFor(dataDir, STORAGE_PORTS)));
    const log = all.get<LogStore>(LOG_STORE);
    await log.open();
    await log.append(entries(1, 4, 1));
    await log.close();

    const withoutLog = new Container();
    await withoutLog.load(plugin.createModule({ noSync: true, verifyOnOpen: false }, contextFor(dataDir, ['stableStore', 'snapshotStore', 'backend'])));
    const stable = withoutLog.get<StableStore>(STABLE_STORE);
    const refused = await rejection(stable.open());
    expect(refused.message).to.equal(
      `${join(dataDir, 'lmdb', 'data.mdb')}: holds a Raft log (entries 1 to 4), but the config takes the log from another plugin; ` +
        'to go on with this data dir, keep the log here: plugins.logStore: { use: "@cairn/storage-lmdb" }',
    );

    const fresh = await dirs.make('plugin-log-elsewhere-fresh');
    const elsewhere = new Container();
    await elsewhere.load(plugin.createModule({ noSync: true, verifyOnOpen: false }, contextFor(fresh, ['stableStore', 'snapshotStore', 'backend'])));
    const freshStable = elsewhere.get<StableStore>(STABLE_STORE);
    await freshStable.open();
    expect(await freshStable.load()).to.equal(undefined);
    await freshStable.close();
  });
});

/** This package's directory (test/ or dist/test/ is below it). */
const packageDir = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
})();

/** The `cairn` command of the @cairn/core package this plugin depends on. */
function cairnBin(): string | undefined {
  let dir = dirname(createRequire(import.meta.url).resolve('@cairn/core'));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  const bin = join(dir, 'bin', 'cairn.js');
  return existsSync(bin) && existsSync(join(dir, 'dist', 'src', 'assembly', 'main.js')) ? bin : undefined;
}

/** A cairn member process; stopped by PID. */
class CairnProcess {
  output = '';
  readonly exited: Promise<number | null>;
  private constructor(private readonly child: ChildProcess) {
    child.stdout!.on('data', (b: Buffer) => {
      this.output += b.toString();
    });
    child.stderr!.on('data', (b: Buffer) => {
      this.output += b.toString();
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Runs in this package's directory, so loaders in execArgv (tsx) resolve as they do here; paths in `args` are absolute. */
  static run(bin: string, args: string[]): CairnProcess {
    const execArgv = process.execArgv.filter((a) => !/^--(inspect|debug)/.test(a));
    return new CairnProcess(spawn(process.execPath, [...execArgv, bin, ...args], { cwd: packageDir, stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  async serving(port: number): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!(await loopbackPortOpen(port))) {
      if (this.child.exitCode !== null || Date.now() > deadline) throw new Error(`cairn did not serve on ${port}:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) process.kill(this.child.pid!, 'SIGTERM');
    const timer = setTimeout(() => this.kill(), 15_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) process.kill(this.child.pid!, 'SIGKILL');
  }
}

describe('@cairn/storage-lmdb through the cairn command', function () {
  this.timeout(120_000);
  const dirs = new TemporaryDirectories();
  const processes: CairnProcess[] = [];
  afterEach(async () => {
    for (const p of processes.splice(0)) p.kill();
    await dirs.removeAll();
  });

  const bin = cairnBin();
  const etcdctl = existsSync('/usr/bin/etcdctl') ? '/usr/bin/etcdctl' : undefined;

  it('refuses an unknown option and a wrongly typed one, naming the key, with exit code 2', async function () {
    if (bin === undefined) {
      console.log('      skipped: @cairn/core is not built (no dist/src/assembly/main.js for bin/cairn.js)');
      this.skip();
    }
    const dir = await dirs.make('cairn-bad');
    for (const [options, key] of [
      ['sync: false', 'plugins.storage.sync'],
      ['mapSize: big', 'plugins.storage.mapSize'],
    ] as const) {
      await writeFile(join(dir, 'cairn.yaml'), `plugins:\n  storage: { use: "@cairn/storage-lmdb", ${options} }\n  api: []\n`);
      const p = CairnProcess.run(bin!, ['--config-file', join(dir, 'cairn.yaml'), '--data-dir', join(dir, 'member')]);
      processes.push(p);
      expect(await p.exited, p.output).to.equal(2);
      expect(p.output).to.contain(key);
      expect(existsSync(join(dir, 'member', 'lmdb'))).to.equal(false);
    }
  });

  it('runs a member on LMDB: a key put with etcdctl is there after a restart', async function () {
    if (bin === undefined || etcdctl === undefined) {
      console.log(`      skipped: ${bin === undefined ? '@cairn/core is not built (no dist/src/assembly/main.js)' : 'etcdctl is not installed'}`);
      this.skip();
    }
    const dir = await dirs.make('cairn-member');
    const [client, peer] = [await freeLoopbackPort(), await freeLoopbackPort()];
    await writeFile(join(dir, 'cairn.yaml'), 'plugins:\n  storage: { use: "@cairn/storage-lmdb" }\n');
    const args = [
      '--config-file',
      join(dir, 'cairn.yaml'),
      '--data-dir',
      join(dir, 'member'),
      ...loopbackUrlFlags(client, peer),
      '--heartbeat-interval',
      '10',
      '--election-timeout',
      '100',
    ];
    const ctl = async (...command: string[]): Promise<string> => {
      const { stdout } = await promisify(execFile)(
        etcdctl!,
        ['--endpoints', `127.0.0.1:${client}`, '--dial-timeout', '5s', '--command-timeout', '10s', ...command],
        { env: { ...process.env, ETCDCTL_API: '3' } },
      );
      return stdout;
    };
    const first = CairnProcess.run(bin!, args);
    processes.push(first);
    await first.serving(client);
    expect(await ctl('put', 'lmdb-key', 'kept on disk')).to.match(/OK/);
    expect(await first.stop(), first.output).to.equal(0);
    expect(existsSync(join(dir, 'member', 'lmdb', 'data.mdb'))).to.equal(true);

    const second = CairnProcess.run(bin!, args);
    processes.push(second);
    await second.serving(client);
    expect(await ctl('get', 'lmdb-key', '--print-value-only')).to.equal('kept on disk\n');
    expect(await second.stop(), second.output).to.equal(0);
  });
});
