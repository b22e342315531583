import { expect } from 'chai';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { Container } from 'inversify';
import { EntryType, LOG_STORE, type CairnPlugin, type Entry, type LogStore, type PluginContext, type PortName } from '@cairn/core';
import { pluginContext, pluginTestContainer, TemporaryDirectories } from '@cairn/core/testkit';
import plugin, { plugin as namedPlugin, WAL_DEFAULTS, WalLogStore, type WalPluginOptions } from '../src/index.js';

const contextFor = (dataDir: string, ports: PortName[] = ['logStore']): PluginContext => pluginContext(dataDir, { ports });

/** Validate `options` as the core's config loader does (core/src/assembly/schema-validator.ts): ajv, defaults filled in. */
function validated(options: Record<string, unknown>): { ok: boolean; options: Record<string, unknown>; error: string } {
  const validate = new Ajv({ allErrors: false, useDefaults: true, strict: false }).compile(plugin.manifest.optionsSchema);
  const copy = { ...options };
  const ok = validate(copy);
  const error = ok ? '' : `${validate.errors![0]!.keyword} ${validate.errors![0]!.instancePath} ${JSON.stringify(validate.errors![0]!.params)}`;
  return { ok, options: copy, error };
}

const entries = (from: number, count: number, size: number): Entry[] =>
  Array.from({ length: count }, (_, i) => ({ index: from + i, term: 1, type: EntryType.Normal, data: Buffer.alloc(size, (from + i) & 0xff) }));

describe('@cairn/storage-wal plugin', () => {
  const dirs = new TemporaryDirectories('cairn-wal');
  const stores: LogStore[] = [];
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await dirs.removeAll();
  });

  /** The LogStore the plugin's module binds for `options`, unopened. */
  const bound = async (options: WalPluginOptions, context: PluginContext): Promise<LogStore> => {
    const container = new Container();
    await container.load(plugin.createModule(options, context));
    const store = container.get<LogStore>(LOG_STORE);
    stores.push(store);
    return store;
  };

  it('is the default export and the named export `plugin`, named @cairn/storage-wal, providing logStore', async () => {
    expect(namedPlugin).to.equal(plugin);
    expect(plugin.manifest.name).to.equal('@cairn/storage-wal');
    expect(plugin.manifest.provides).to.deep.equal(['logStore']);
    // As the core's loader imports it: by package name, default or `plugin`.
    const loaded = (await import('@cairn/storage-wal')) as Record<string, unknown>;
    expect(loaded['default']).to.equal(plugin);
    expect(loaded['plugin']).to.equal(plugin);
    expect(typeof (loaded['default'] as CairnPlugin).createModule).to.equal('function');
  });

  it('binds LOG_STORE to a WalLogStore in <dataDir>/wal with options {}', async () => {
    const dataDir = await dirs.make('plugin');
    const store = await bound({}, contextFor(dataDir));
    expect(store).to.be.instanceOf(WalLogStore);
    expect((store as WalLogStore).directory).to.equal(join(dataDir, 'wal'));
    // Nothing is created before open.
    expect(existsSync(join(dataDir, 'wal'))).to.equal(false);
    await store.open();
    expect(readdirSync(join(dataDir, 'wal'))).to.deep.equal(['0000000000000001.wal']);
    await store.append(entries(1, 3, 10));
    await store.close();
    const again = await bound({}, contextFor(dataDir));
    await again.open();
    expect([again.firstIndex(), again.lastIndex()]).to.deep.equal([1, 3]);
    expect(Buffer.from((await again.entries(2, 3))[0]!.data)).to.deep.equal(Buffer.alloc(10, 2));
  });

  it('uses an absolute directory as is, and resolves a relative one from the data directory', async () => {
    const dataDir = await dirs.make('plugin-dir');
    const elsewhere = join(await dirs.make('plugin-elsewhere'), 'segments');
    const absolute = await bound({ directory: elsewhere }, contextFor(dataDir));
    expect((absolute as WalLogStore).directory).to.equal(elsewhere);
    await absolute.open();
    expect(readdirSync(elsewhere)).to.deep.equal(['0000000000000001.wal']);
    expect(readdirSync(dataDir)).to.deep.equal([]);
    const relative = await bound({ directory: 'raft/log' }, contextFor(dataDir));
    expect((relative as WalLogStore).directory).to.equal(join(dataDir, 'raft', 'log'));
  });

  it('passes its options on to the store: segmentBytes rolls segments', async () => {
    const dataDir = await dirs.make('plugin-options');
    const store = await bound({ segmentBytes: 4096, inlineSyncEntries: 0, cacheBytes: 0 }, contextFor(dataDir));
    await store.open();
    // One 1000-byte entry per frame (1050 bytes): 3 of them after the head fill a 4 KiB segment.
    for (let i = 1; i <= 10; i++) await store.append(entries(i, 1, 1000));
    const files = readdirSync(join(dataDir, 'wal')).sort();
    expect(files).to.deep.equal(['0000000000000001.wal', '0000000000000002.wal', '0000000000000003.wal', '0000000000000004.wal']);
    for (const file of files) expect(statSync(join(dataDir, 'wal', file)).size).to.be.at.most(4096);
    expect((await store.entries(1, 11)).map((e) => Buffer.from(e.data)[0])).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('resolves LOG_STORE in a container holding what the core binds to one WalLogStore, built by the container', async () => {
    const dataDir = await dirs.make('plugin-container');
    const container = pluginTestContainer();
    await container.loadAsync(plugin.createModule(validated({ directory: 'log' }).options, contextFor(dataDir)));
    const store = container.get<LogStore>(LOG_STORE);
    expect(store).to.be.instanceOf(WalLogStore);
    expect(container.get(LOG_STORE)).to.equal(store);
    expect((store as WalLogStore).directory).to.equal(join(dataDir, 'log'));
  });

  it('binds nothing when the config did not choose it for logStore', async () => {
    const dataDir = await dirs.make('plugin-ports');
    const container = new Container();
    await container.load(plugin.createModule({}, contextFor(dataDir, [])));
    expect(container.isBound(LOG_STORE)).to.equal(false);
  });

  describe('options schema', () => {
    it('fills in the defaults for {}', () => {
      const result = validated({});
      expect(result.ok, result.error).to.equal(true);
      expect(result.options).to.deep.equal({ ...WAL_DEFAULTS });
      expect(result.options).to.deep.equal({ directory: 'wal', segmentBytes: 64 << 20, inlineSyncEntries: 1, cacheBytes: 16 << 20 });
    });

    it('accepts every known key at its bounds', () => {
      const result = validated({ directory: '/var/lib/cairn/wal', segmentBytes: 4096, inlineSyncEntries: 0, cacheBytes: 0 });
      expect(result.ok, result.error).to.equal(true);
      expect(result.options).to.deep.equal({ directory: '/var/lib/cairn/wal', segmentBytes: 4096, inlineSyncEntries: 0, cacheBytes: 0 });
    });

    it('refuses unknown keys', () => {
      const result = validated({ segmentSize: 8192 });
      expect(result.ok).to.equal(false);
      expect(result.error).to.equal('additionalProperties  {"additionalProperty":"segmentSize"}');
    });

    it('refuses segmentBytes below 4096, and non-integers', () => {
      expect(validated({ segmentBytes: 4095 }).error).to.equal('minimum /segmentBytes {"comparison":">=","limit":4096}');
      expect(validated({ segmentBytes: 8192.5 }).error).to.equal('type /segmentBytes {"type":"integer"}');
      expect(validated({ segmentBytes: '64MiB' }).ok).to.equal(false);
    });

    it('refuses negative inlineSyncEntries and cacheBytes, and an empty directory', () => {
      expect(validated({ inlineSyncEntries: -1 }).error).to.equal('minimum /inlineSyncEntries {"comparison":">=","limit":0}');
      expect(validated({ cacheBytes: -1 }).error).to.equal('minimum /cacheBytes {"comparison":">=","limit":0}');
      expect(validated({ directory: '' }).error).to.equal('minLength /directory {"limit":1}');
      expect(validated({ directory: 5 }).ok).to.equal(false);
    });
  });
});
