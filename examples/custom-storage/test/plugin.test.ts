import { expect } from 'chai';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Container } from 'inversify';
import {
  BACKEND,
  CLOCK,
  EntryType,
  LOG_STORE,
  LOGGER,
  RANDOM,
  SNAPSHOT_STORE,
  STABLE_STORE,
  type CairnPlugin,
  type LogStore,
  type SnapshotStore,
  type StableStore,
} from '@cairn/core';
import { MemoryLogger, SeededRandom, VirtualClock } from '@cairn/core/testkit';
import * as exported from '../src/index.js';
import { FILE_STORAGE_DEFAULTS, FileLogStore, FileSnapshotStore, FileStableStore } from '../src/index.js';
import { storageContext } from './plugin-stores.js';

const plugin: CairnPlugin<exported.FileStoragePluginOptions> = exported.default;

describe('cairn-example-file-storage plugin', () => {
  const directories: string[] = [];
  const made = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'cairn-example-plugin-'));
    directories.push(dir);
    return dir;
  };
  afterEach(async () => {
    for (const dir of directories.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it('is the default export and the named export `plugin`, as the loader looks for them', () => {
    expect(exported.plugin).to.equal(exported.default);
    expect(typeof plugin.createModule).to.equal('function');
  });

  it('provides the log, stable and snapshot ports, not the backend, with a closed options schema whose defaults are FILE_STORAGE_DEFAULTS', () => {
    expect(plugin.manifest.name).to.equal('cairn-example-file-storage');
    expect(plugin.manifest.provides).to.deep.equal(['logStore', 'stableStore', 'snapshotStore']);
    const schema = plugin.manifest.optionsSchema as { additionalProperties: unknown; properties: Record<string, { default: unknown }> };
    expect(schema.additionalProperties).to.equal(false);
    expect(Object.fromEntries(Object.entries(schema.properties).map(([key, p]) => [key, p.default]))).to.deep.equal(FILE_STORAGE_DEFAULTS);
  });

  it('binds only the ports the config chose it for, in a directory inside the data directory, usable across a restart', async () => {
    const dataDir = await made();
    for (let incarnation = 0; incarnation < 2; incarnation++) {
      const container = new Container();
      container.load(plugin.createModule(FILE_STORAGE_DEFAULTS, storageContext(dataDir, ['logStore', 'stableStore', 'snapshotStore'])));
      expect(container.isBound(BACKEND)).to.equal(false);
      const log = container.get<LogStore>(LOG_STORE);
      const stable = container.get<StableStore>(STABLE_STORE);
      const snapshots = container.get<SnapshotStore>(SNAPSHOT_STORE);
      expect([log, stable, snapshots].map((s) => s.constructor.name)).to.deep.equal([FileLogStore.name, FileStableStore.name, FileSnapshotStore.name]);
      for (const store of [log, stable, snapshots]) await store.open();
      if (incarnation === 0) {
        await log.append([{ index: 1, term: 1, type: EntryType.Normal, data: Uint8Array.of(7) }]);
        await stable.save({
          hardState: { term: 4, vote: '0000000000000001', commit: 1 },
          confState: { voters: ['0000000000000001'], learners: [] },
          clusterId: 'c0ffee0000000001',
          memberId: '0000000000000001',
        });
      } else {
        expect([log.lastIndex(), (await stable.load())?.hardState.term]).to.deep.equal([1, 4]);
      }
      for (const store of [snapshots, stable, log]) await store.close();
    }
    expect(await readdir(dataDir)).to.deep.equal(['file-storage']);
    expect((await readdir(join(dataDir, 'file-storage'))).sort()).to.deep.equal(['log.dat', 'snapshots', 'stable']);

    const container = new Container();
    container.load(plugin.createModule(FILE_STORAGE_DEFAULTS, storageContext(dataDir, ['stableStore'])));
    expect([container.isBound(LOG_STORE), container.isBound(STABLE_STORE), container.isBound(SNAPSHOT_STORE)]).to.deep.equal([false, true, false]);
  });

  it('resolves its port tokens in a container holding what the core binds, to stores the container builds, one module per config entry', async () => {
    const dataDir = await made();
    // As assemblePorts starts its container: the core's clock, logger and random as values.
    const container = new Container();
    container.bind(CLOCK).toConstantValue(new VirtualClock());
    container.bind(LOGGER).toConstantValue(new MemoryLogger());
    container.bind(RANDOM).toConstantValue(new SeededRandom(1));
    await container.loadAsync(plugin.createModule({ ...FILE_STORAGE_DEFAULTS, directory: 'raft-log' }, storageContext(dataDir, ['logStore'])));
    await container.loadAsync(plugin.createModule(FILE_STORAGE_DEFAULTS, storageContext(dataDir, ['stableStore', 'snapshotStore'])));
    const log = container.get<FileLogStore>(LOG_STORE);
    const stable = container.get<FileStableStore>(STABLE_STORE);
    const snapshots = container.get<FileSnapshotStore>(SNAPSHOT_STORE);
    expect([log, stable, snapshots].map((s) => s.constructor)).to.deep.equal([FileLogStore, FileStableStore, FileSnapshotStore]);
    expect(container.get(LOG_STORE)).to.equal(log);
    expect([log.path, stable.path]).to.deep.equal([join(dataDir, 'raft-log', 'log.dat'), join(dataDir, 'file-storage', 'stable')]);
    for (const store of [log, stable, snapshots]) await store.open();
    for (const store of [snapshots, stable, log]) await store.close();
    expect((await readdir(dataDir)).sort()).to.deep.equal(['file-storage', 'raft-log']);
    expect(await readdir(join(dataDir, 'raft-log'))).to.deep.equal(['log.dat']);
  });

  it('takes an absolute directory as it is', async () => {
    const dataDir = await made();
    const elsewhere = await made();
    const container = new Container();
    container.load(plugin.createModule({ ...FILE_STORAGE_DEFAULTS, directory: elsewhere }, storageContext(dataDir, ['logStore'])));
    const log = container.get<FileLogStore>(LOG_STORE);
    expect(log.path).to.equal(join(elsewhere, 'log.dat'));
  });
});
