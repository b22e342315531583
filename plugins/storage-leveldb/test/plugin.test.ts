import { expect } from 'chai';
import { Ajv } from 'ajv';
import { Container } from 'inversify';
import {
  BACKEND,
  LOG_STORE,
  SNAPSHOT_STORE,
  STABLE_STORE,
  type Backend,
  type CairnPlugin,
  type LogStore,
  type PluginContext,
  type PortName,
  type SnapshotStore,
  type StableStore,
} from '@cairn/core';
import { pluginContext, pluginTestContainer, TemporaryDirectories } from '@cairn/core/testkit';
import {
  LevelDatabasePool,
  LevelDbBackend,
  LevelDbLogStore,
  LevelDbSnapshotStore,
  LevelDbStableStore,
  storageLayout,
  type LevelDatabase,
  type LevelDatabaseOptions,
} from '../src/index.js';
import { entries } from './sample-data.js';

/** What the core's plugin loader does with a config entry: import by package name, take the default (or `plugin`) export, validate the options filling defaults. */
async function loadAsTheCoreDoes(options: Record<string, unknown>): Promise<{ plugin: CairnPlugin; options: Record<string, unknown> }> {
  const loaded = (await import('@cairn/storage-leveldb')) as Record<string, unknown>;
  const plugin = (loaded['default'] ?? loaded['plugin']) as CairnPlugin;
  expect(loaded['plugin']).to.equal(loaded['default']);
  const validate = new Ajv({ allErrors: false, useDefaults: true, strict: false }).compile(plugin.manifest.optionsSchema);
  const copy = { ...options };
  if (!validate(copy))
    throw new Error(`options refused: ${validate.errors![0]!.instancePath} ${validate.errors![0]!.message} ${JSON.stringify(validate.errors![0]!.params)}`);
  return { plugin, options: copy };
}

/** A pool that counts what it opens, to see which pool the container gave the stores. */
class CountingPool extends LevelDatabasePool {
  readonly acquired: string[] = [];

  override acquire(options: LevelDatabaseOptions): Promise<LevelDatabase> {
    this.acquired.push(options.location);
    return super.acquire(options);
  }
}

describe('@cairn/storage-leveldb plugin', () => {
  const temporary = new TemporaryDirectories();
  afterEach(() => temporary.removeAll());

  const context = (dataDir: string, ports: PortName[]): PluginContext => pluginContext(dataDir, { ports, memberId: '0000000000000001' });

  it('declares the four storage ports and an options schema whose defaults are safe', async () => {
    const { plugin, options } = await loadAsTheCoreDoes({});
    expect(plugin.manifest.name).to.equal('@cairn/storage-leveldb');
    expect(plugin.manifest.provides).to.deep.equal(['logStore', 'stableStore', 'snapshotStore', 'backend']);
    expect(options).to.deep.equal({
      directory: 'leveldb',
      noSync: false,
      retainSnapshots: 2,
      snapshotChunkBytes: 262144,
      cacheSizeBytes: 8388608,
      writeBufferSizeBytes: 4194304,
      compression: true,
      verifyTablesOnOpen: true,
    });
  });

  it('refuses unknown and ill-typed options', async () => {
    for (const bad of [{ dir: '/tmp/x' }, { noSync: 'yes' }, { retainSnapshots: 0 }, { snapshotChunkBytes: 10 }]) {
      let error: unknown;
      await loadAsTheCoreDoes(bad).catch((err: unknown) => {
        error = err;
      });
      expect(String(error), JSON.stringify(bad)).to.match(/options refused/);
    }
  });

  it('binds every chosen port to a store inside the data directory, usable across a restart', async () => {
    const dataDir = await temporary.make('plugin');
    const { plugin, options } = await loadAsTheCoreDoes({});
    for (let incarnation = 0; incarnation < 2; incarnation++) {
      const container = new Container();
      await container.loadAsync(plugin.createModule(options, context(dataDir, ['logStore', 'stableStore', 'snapshotStore', 'backend'])));
      const log = container.get<LogStore>(LOG_STORE);
      const stable = container.get<StableStore>(STABLE_STORE);
      const snapshots = container.get<SnapshotStore>(SNAPSHOT_STORE);
      const backend = container.get<Backend>(BACKEND);
      // By name: the package import and ../src may be two module instances of the same file.
      expect([log, stable, snapshots, backend].map((s) => s.constructor.name)).to.deep.equal([
        LevelDbLogStore.name,
        LevelDbStableStore.name,
        LevelDbSnapshotStore.name,
        LevelDbBackend.name,
      ]);
      expect((backend as LevelDbBackend).location).to.equal(storageLayout(`${dataDir}/leveldb`).backend);
      for (const store of [log, stable, snapshots, backend]) await store.open();
      if (incarnation === 0) {
        await log.append(entries(1, 3, 1));
        await backend.write([{ type: 'put', key: Uint8Array.of(1), value: Uint8Array.of(2) }]);
        await backend.flush();
      } else {
        expect(log.lastIndex()).to.equal(3);
        expect(await backend.get(Uint8Array.of(1))).to.deep.equal(Buffer.from([2]));
      }
      for (const store of [backend, snapshots, stable, log]) await store.close();
    }
  });

  it('resolves the four port tokens in a container holding what the core binds, to stores the container builds', async () => {
    const dataDir = await temporary.make('plugin-container');
    const { plugin, options } = await loadAsTheCoreDoes({ noSync: true });
    const container = pluginTestContainer();
    await container.loadAsync(plugin.createModule(options, context(dataDir, ['logStore', 'stableStore', 'snapshotStore', 'backend'])));
    const stores = [LOG_STORE, STABLE_STORE, SNAPSHOT_STORE, BACKEND].map((token) => container.get(token));
    expect(stores.map((s) => (s as object).constructor)).to.deep.equal([LevelDbLogStore, LevelDbStableStore, LevelDbSnapshotStore, LevelDbBackend]);
    expect(container.get(BACKEND)).to.equal(stores[3]);
    const layout = storageLayout(`${dataDir}/leveldb`);
    expect([(stores[0] as LevelDbLogStore).location, (stores[1] as LevelDbStableStore).location]).to.deep.equal([layout.raft, layout.raft]);
    expect((stores[2] as LevelDbSnapshotStore).directory).to.equal(layout.snapshots);
    expect((stores[3] as LevelDbBackend).location).to.equal(layout.backend);
  });

  it("chosen in two entries with two directories, gives each entry's stores their own databases; a pool bound in the container is the one they share", async () => {
    const dataDir = await temporary.make('plugin-twice');
    const { plugin, options } = await loadAsTheCoreDoes({ noSync: true });
    const container = pluginTestContainer();
    const pool = new CountingPool();
    container.bind(LevelDatabasePool).toConstantValue(pool);
    await container.loadAsync(plugin.createModule({ ...options, directory: 'raft' }, context(dataDir, ['logStore', 'stableStore'])));
    await container.loadAsync(plugin.createModule(options, context(dataDir, ['snapshotStore', 'backend'])));
    const log = container.get<LogStore>(LOG_STORE) as LevelDbLogStore;
    const stable = container.get<StableStore>(STABLE_STORE) as LevelDbStableStore;
    const snapshots = container.get<SnapshotStore>(SNAPSHOT_STORE) as LevelDbSnapshotStore;
    const backend = container.get<Backend>(BACKEND) as LevelDbBackend;
    expect([log.location, stable.location]).to.deep.equal([storageLayout(`${dataDir}/raft`).raft, storageLayout(`${dataDir}/raft`).raft]);
    expect(snapshots.directory).to.equal(storageLayout(`${dataDir}/leveldb`).snapshots);
    expect(backend.location).to.equal(storageLayout(`${dataDir}/leveldb`).backend);
    for (const store of [log, stable, snapshots, backend]) await store.open();
    await log.append(entries(1, 2, 1));
    for (const store of [backend, snapshots, stable, log]) await store.close();
    expect(pool.acquired).to.deep.equal([
      storageLayout(`${dataDir}/raft`).raft,
      storageLayout(`${dataDir}/raft`).raft,
      storageLayout(`${dataDir}/leveldb`).raft,
      storageLayout(`${dataDir}/leveldb`).backend,
    ]);
  });

  it('binds only the ports the config chose it for, and takes a directory of its own', async () => {
    const dataDir = await temporary.make('plugin');
    const elsewhere = await temporary.make('plugin-elsewhere');
    const { plugin, options } = await loadAsTheCoreDoes({ directory: elsewhere, noSync: true });
    const container = new Container();
    await container.loadAsync(plugin.createModule(options, context(dataDir, ['logStore', 'stableStore'])));
    expect(container.isBound(LOG_STORE)).to.equal(true);
    expect(container.isBound(STABLE_STORE)).to.equal(true);
    expect(container.isBound(SNAPSHOT_STORE)).to.equal(false);
    expect(container.isBound(BACKEND)).to.equal(false);
    const log = container.get<LogStore>(LOG_STORE) as LevelDbLogStore;
    expect(log.location).to.equal(storageLayout(elsewhere).raft);
  });
});
