import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { expect } from 'chai';
import { ContainerModule } from 'inversify';
import type { DefaultPlugins } from '../../src/assembly/assembled-ports.js';
import type { CairnPlugin } from '../../src/ports/plugin.js';
import { runSnapshotCommand } from '../../src/assembly/snapshot-restore-command.js';
import { CorruptBoltFileError } from '../../src/etcd-snapshot/bolt-file-reader.js';
import { writeBoltFile } from '../../src/etcd-snapshot/bolt-file-writer.js';
import { etcdRevisionKey, etcdSnapshotFile, type SnapshotRecord, type SnapshotRecordSource } from '../../src/etcd-snapshot/etcd-snapshot-file.js';
import { openEtcdSnapshot } from '../../src/etcd-snapshot/etcd-snapshot-reader.js';
import { loadSnapshotIntoBackend } from '../../src/mvcc/mvcc-snapshot-loader.js';
import { MvccStore } from '../../src/mvcc/mvcc-store.js';
import { checkSnapshotTrailer, SnapshotHashError } from '../../src/etcd-snapshot/snapshot-hash-trailer.js';
import { BACKEND, type Backend, type BackendOp } from '../../src/ports/backend.js';
import type { KeyValue, ResponseHeader } from '../../src/api/kv-types.js';
import { MemoryBackend } from '../../src/memory/memory-backend.js';
import { memoryPlugin } from '../../src/memory/memory-plugin.js';

const header = (revision: number): ResponseHeader => ({ clusterId: 0n, memberId: 0n, revision, raftTerm: 0 });
const text = (s: string): Uint8Array => Buffer.from(s, 'utf8');
const EVERYTHING = { key: Uint8Array.of(0), rangeEnd: Uint8Array.of(0) };
const LEASE = 0x694d7c3a1f2b0e01n;

/** A store history: puts (some leased, some with values beyond a page), overwrites, deletes, a txn, a compaction. */
async function storeWithHistory(backend: Backend, keys: number, valueSize: number): Promise<MvccStore> {
  const store = await MvccStore.open(backend, { header, leases: { exists: () => true } });
  let index = 0;
  for (let i = 0; i < keys; i++) {
    await store.put(++index, {
      key: text(`/registry/item-${String(i).padStart(5, '0')}`),
      value: Buffer.alloc(valueSize + (i % 50), 0x61 + (i % 26)),
      ...(i % 7 === 0 ? { lease: LEASE } : {}),
    });
  }
  for (let i = 0; i < keys; i += 3) await store.put(++index, { key: text(`/registry/item-${String(i).padStart(5, '0')}`), value: text(`second-${i}`) });
  await store.compact(++index, Math.floor(store.currentRevision / 2));
  for (let i = 1; i < keys; i += 5) await store.deleteRange(++index, { key: text(`/registry/item-${String(i).padStart(5, '0')}`) });
  await store.txn(++index, {
    compare: [],
    success: [
      { requestPut: { key: text('/txn/a'), value: text('1') } },
      { requestPut: { key: text('/txn/b'), value: text('2') } },
      { requestDeleteRange: { key: text('/registry/item-00000') } },
    ],
    failure: [],
  });
  await store.put(index + 1, { key: text('/last'), value: text('last') });
  return store;
}

/** The store's records as a snapshot file source; the pinned view lives as long as the test's store. */
function sourceOf(store: MvccStore): SnapshotRecordSource {
  const pinned = store.pinnedRecords();
  return {
    records: async function* () {
      for await (const { at, record } of pinned.records()) yield { main: at.main, sub: at.sub, ...record };
    },
    consistentIndex: pinned.appliedIndex,
    compactRevision: pinned.compactRevision,
  };
}

async function saveSnapshot(source: SnapshotRecordSource, path: string, trailer = true): Promise<void> {
  const hash = createHash('sha256');
  await pipeline(
    Readable.from(
      (async function* () {
        for await (const chunk of etcdSnapshotFile(source)) {
          hash.update(chunk);
          yield chunk;
        }
        if (trailer) yield hash.digest();
      })(),
    ),
    createWriteStream(path),
  );
}

async function recordsOf(source: SnapshotRecordSource): Promise<SnapshotRecord[]> {
  const out: SnapshotRecord[] = [];
  for await (const r of source.records()) out.push(r);
  return out;
}

const plain = (kv: KeyValue): Record<string, unknown> => ({
  ...kv,
  key: Buffer.from(kv.key).toString('hex'),
  value: Buffer.from(kv.value).toString('hex'),
  lease: kv.lease.toString(),
});

/** The same reads at every uncompacted revision, and the same revisions. */
async function expectSameStore(actual: MvccStore, expected: MvccStore): Promise<void> {
  expect(actual.currentRevision, 'revision').to.equal(expected.currentRevision);
  expect(actual.compactRevision, 'compact revision').to.equal(expected.compactRevision);
  for (
    let rev = expected.compactRevision;
    rev <= expected.currentRevision;
    rev += Math.max(1, Math.floor((expected.currentRevision - expected.compactRevision) / 25))
  ) {
    const a = await actual.range({ ...EVERYTHING, revision: rev });
    const e = await expected.range({ ...EVERYTHING, revision: rev });
    expect(a.kvs.map(plain), `range at revision ${rev}`).to.deep.equal(e.kvs.map(plain));
  }
  const a = await actual.range(EVERYTHING);
  const e = await expected.range(EVERYTHING);
  expect(a.kvs.map(plain), 'range now').to.deep.equal(e.kvs.map(plain));
}

// ---- a durable backend for the command tests: a MemoryBackend saved to a file in its data dir ----

const writeSizes: number[] = [];

class FileBackend extends MemoryBackend {
  constructor(private readonly file: string) {
    super();
  }

  override async open(): Promise<void> {
    if (!existsSync(this.file)) return;
    const pairs = JSON.parse(await readFile(this.file, 'utf8')) as [string, string][];
    await super.write(pairs.map(([k, v]) => ({ type: 'put', key: Buffer.from(k, 'hex'), value: Buffer.from(v, 'hex') })));
  }

  override async write(ops: readonly BackendOp[]): Promise<void> {
    writeSizes.push(ops.length);
    await super.write(ops);
  }

  override async flush(): Promise<void> {
    const pairs: [string, string][] = [];
    for await (const [k, v] of this.range({})) pairs.push([Buffer.from(k).toString('hex'), Buffer.from(v).toString('hex')]);
    await writeFile(this.file, JSON.stringify(pairs));
  }

  override async close(): Promise<void> {
    await this.flush();
  }
}

const FILE_BACKEND = 'file-backend';
const fileBackendPlugin: CairnPlugin = {
  manifest: { name: FILE_BACKEND, provides: ['backend'], optionsSchema: { type: 'object', properties: {}, additionalProperties: false } },
  createModule(_options, context) {
    return new ContainerModule(({ bind }) => {
      bind(BACKEND).toConstantValue(new FileBackend(join(context.dataDir, 'backend.json')));
    });
  },
};
const BUILTINS = new Map<string, CairnPlugin>([
  ['memory', memoryPlugin],
  [FILE_BACKEND, fileBackendPlugin],
]);
const DEFAULTS: DefaultPlugins = { storage: 'memory', transportSingle: 'memory', transportCluster: 'memory', api: [] };

async function restoreCommand(argv: string[], cwd: string, batchOps?: number): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runSnapshotCommand(['restore', ...argv], {
    defaults: DEFAULTS,
    builtins: BUILTINS,
    io: { cwd, out: (l) => out.push(l), err: (l) => err.push(l) },
    ...(batchOps === undefined ? {} : { loadOptions: { batchOps } }),
  });
  return { code, out, err };
}

/** Names and sizes of everything under `dir` (or null if absent): to show a refusal changed nothing. */
function listing(dir: string): string[] | null {
  if (!existsSync(dir)) return null;
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((d) => join(d.parentPath, d.name))
    .sort();
}

describe('restoring etcd snapshots', function () {
  this.timeout(120_000);
  let dir: string;
  let original: MvccStore;
  let snapshotPath: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-restore-'));
    original = await storeWithHistory(new MemoryBackend(), 3000, 200);
    snapshotPath = join(dir, 'history.db');
    await saveSnapshot(sourceOf(original), snapshotPath);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('openEtcdSnapshot', () => {
    it('reads back every record the writer put in, with the meta bucket', async () => {
      const expected = await recordsOf(sourceOf(original));
      const snapshot = await openEtcdSnapshot(snapshotPath, { length: (await readFile(snapshotPath)).length - 32 });
      try {
        const actual = await recordsOf(snapshot);
        expect(actual.length).to.equal(expected.length).and.to.be.greaterThan(4000);
        const norm = (r: SnapshotRecord): Record<string, unknown> => ({
          ...r,
          key: Buffer.from(r.key).toString('hex'),
          value: Buffer.from(r.value).toString('hex'),
        });
        expect(actual.map(norm)).to.deep.equal(expected.map(norm));
        expect([snapshot.consistentIndex, snapshot.compactRevision, snapshot.scheduledCompactRevision]).to.deep.equal([
          original.appliedIndex,
          original.compactRevision,
          original.compactRevision,
        ]);
      } finally {
        await snapshot.close();
      }
    });

    it('reads values that span overflow pages', async () => {
      const store = await storeWithHistory(new MemoryBackend(), 20, 30 * 1024);
      const path = join(dir, 'overflow.db');
      await saveSnapshot(sourceOf(store), path, false);
      const snapshot = await openEtcdSnapshot(path);
      try {
        const records = await recordsOf(snapshot);
        const expected = await recordsOf(sourceOf(store));
        expect(records.filter((r) => r.value.length > 30 * 1024).length).to.be.greaterThan(5);
        expect(records.map((r) => Buffer.from(r.value).toString('hex'))).to.deep.equal(expected.map((r) => Buffer.from(r.value).toString('hex')));
      } finally {
        await snapshot.close();
      }
    });

    const refusals: { name: string; key: Buffer; value: Buffer; message: RegExp }[] = [
      { name: 'a key that is not a revision', key: Buffer.from('not-a-revision'), value: Buffer.alloc(0), message: /is not a revision/ },
      {
        name: 'a value that is not a KeyValue',
        key: Buffer.from(etcdRevisionKey(2, 0, false)),
        value: Buffer.from([0x0a, 0x20, 0x61]),
        message: /is not a KeyValue: a field runs past the end/,
      },
      {
        name: "a mod_revision that is not the record's revision",
        key: Buffer.from(etcdRevisionKey(2, 0, false)),
        value: Buffer.from([0x0a, 0x01, 0x61, 0x10, 0x02, 0x18, 0x07, 0x20, 0x01]),
        message: /mod_revision is 7/,
      },
    ];
    for (const refusal of refusals) {
      it(`refuses ${refusal.name}, naming the file`, async () => {
        const path = join(dir, `refusal-${refusal.name.replace(/\W+/g, '-')}.db`);
        await pipeline(
          Readable.from(
            writeBoltFile([
              {
                name: Buffer.from('key'),
                async *entries() {
                  yield [refusal.key, refusal.value] as const;
                },
              },
              {
                name: Buffer.from('meta'),
                async *entries() {
                  /* none */
                },
              },
            ]),
          ),
          createWriteStream(path),
        );
        const snapshot = await openEtcdSnapshot(path);
        const error = await recordsOf(snapshot)
          .then(
            () => undefined,
            (e: unknown) => e,
          )
          .finally(() => snapshot.close());
        expect(error).to.be.instanceOf(CorruptBoltFileError);
        expect((error as Error).message)
          .to.contain(path)
          .and.to.match(refusal.message);
      });
    }

    it('refuses a bbolt file without the key bucket', async () => {
      const path = join(dir, 'no-key-bucket.db');
      await pipeline(
        Readable.from(
          writeBoltFile([
            {
              name: Buffer.from('other'),
              async *entries() {
                /* none */
              },
            },
          ]),
        ),
        createWriteStream(path),
      );
      const error = await openEtcdSnapshot(path).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((error as Error).message)
        .to.contain(path)
        .and.to.match(/no "key" bucket/);
    });
  });

  describe('checkSnapshotTrailer', () => {
    it('verifies the sha256 trailer, refuses a mismatch or a missing one unless told to skip', async () => {
      const file = await readFile(snapshotPath);
      expect(await checkSnapshotTrailer(snapshotPath, file.length, false)).to.deep.equal({
        databaseLength: file.length - 32,
        hasTrailer: true,
        verified: true,
      });

      const flipped = Buffer.from(file);
      flipped[5000] ^= 1;
      const damaged = join(dir, 'flipped.db');
      await writeFile(damaged, flipped);
      const mismatch = await checkSnapshotTrailer(damaged, flipped.length, false).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(mismatch).to.be.instanceOf(SnapshotHashError);
      expect((mismatch as Error).message)
        .to.contain(damaged)
        .and.to.match(/sha256 mismatch/);

      const bare = join(dir, 'bare.db');
      await writeFile(bare, file.subarray(0, file.length - 32));
      const missing = await checkSnapshotTrailer(bare, file.length - 32, false).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((missing as Error).message).to.match(/no sha256 trailer.*--skip-hash-check/);
      expect(await checkSnapshotTrailer(bare, file.length - 32, true)).to.deep.equal({ databaseLength: file.length - 32, hasTrailer: false, verified: false });
    });
  });

  describe('loadSnapshotIntoBackend', () => {
    it('writes a store that reads exactly like the original, in bounded batches, and continues its revisions', async () => {
      const backend = new MemoryBackend();
      const sizes: number[] = [];
      const write = backend.write.bind(backend);
      backend.write = async (ops) => {
        sizes.push(ops.length);
        await write(ops);
      };
      const snapshot = await openEtcdSnapshot(snapshotPath, { length: (await readFile(snapshotPath)).length - 32 });
      const result = await loadSnapshotIntoBackend(backend, snapshot, { batchOps: 500 }).finally(() => snapshot.close());
      expect(result).to.deep.equal({
        records: (await recordsOf(sourceOf(original))).length,
        revision: original.currentRevision,
        compactRevision: original.compactRevision,
      });
      expect(Math.max(...sizes), 'largest batch').to.be.at.most(500 + 3);
      expect(sizes.length).to.be.greaterThan(8);

      const restored = await MvccStore.open(backend, { header });
      await expectSameStore(restored, original);
      expect(restored.appliedIndex, 'a new Raft log starts at index 1').to.equal(0);
      const put = await restored.put(1, { key: text('/after'), value: text('restore') });
      expect('ok' in put && put.ok.header.revision).to.equal(original.currentRevision + 1);
    });

    it('finishes a compaction the snapshot had only scheduled, as etcd does', async () => {
      const store = await storeWithHistory(new MemoryBackend(), 50, 10);
      const scheduled = store.currentRevision - 5;
      const backend = new MemoryBackend();
      const result = await loadSnapshotIntoBackend(backend, { ...sourceOf(store), scheduledCompactRevision: scheduled });
      expect(result.compactRevision).to.equal(scheduled);
      await store.compact(1000, scheduled);
      await expectSameStore(await MvccStore.open(backend, { header }), store);
    });

    it('keeps the compact revision as the store revision when compaction removed the newest tombstones', async () => {
      const store = await MvccStore.open(new MemoryBackend(), { header });
      await store.put(1, { key: text('a'), value: text('1') });
      await store.deleteRange(2, { key: text('a') });
      await store.compact(3, 3);
      const backend = new MemoryBackend();
      expect((await loadSnapshotIntoBackend(backend, sourceOf(store))).revision).to.equal(3);
      const restored = await MvccStore.open(backend, { header });
      const put = await restored.put(1, { key: text('b'), value: text('2') });
      expect('ok' in put && put.ok.header.revision).to.equal(4);
    });

    it('refuses a backend that already holds data', async () => {
      const backend = new MemoryBackend();
      await backend.write([{ type: 'put', key: text('x'), value: text('y') }]);
      const error = await loadSnapshotIntoBackend(backend, sourceOf(original)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((error as Error).message).to.match(/already holds data/);
    });
  });

  describe('cairn snapshot restore', () => {
    let work: string;
    let config: string;
    beforeEach(() => {
      work = join(dir, `cmd-${Math.random().toString(16).slice(2)}`);
      mkdirSync(work);
      config = join(work, 'cairn.yaml');
      writeFileSync(config, `plugins:\n  storage: { use: memory }\n  backend: { use: ${FILE_BACKEND} }\n`);
    });

    it('restores into a new data dir through the configured backend plugin', async () => {
      writeSizes.length = 0;
      const r = await restoreCommand(
        [snapshotPath, '--config-file', config, '--data-dir', 'restored', '--name', 'n1', '--initial-cluster', 'n1=http://127.0.0.1:2380'],
        work,
        400,
      );
      expect(r.err, r.err.join('\n')).to.deep.equal([]);
      expect(r.code).to.equal(0);
      expect(r.out[0]).to.match(/^restored .*history\.db into .*restored: \d+ stored revisions, revision \d+, compacted at \d+ \(sha256 verified\)$/);
      expect(r.out[1]).to.match(/founds the new cluster [0-9a-f]{16} as member [0-9a-f]{16}$/);
      expect(Math.max(...writeSizes)).to.be.at.most(400 + 3);
      expect(readdirSync(work).sort(), 'no staging dir left behind').to.deep.equal(['cairn.yaml', 'restored']);

      const backend = new FileBackend(join(work, 'restored', 'backend.json'));
      await backend.open();
      await expectSameStore(await MvccStore.open(backend, { header }), original);
    });

    it('restores into an existing empty data dir, and a file without a trailer with --skip-hash-check', async () => {
      const bare = join(work, 'bare.db');
      const file = await readFile(snapshotPath);
      await writeFile(bare, file.subarray(0, file.length - 32));
      mkdirSync(join(work, 'empty'));
      const r = await restoreCommand([bare, '--skip-hash-check', '--config-file', config, '--data-dir', 'empty'], work);
      expect(r.code, r.err.join('\n')).to.equal(0);
      expect(r.out[0]).to.match(/sha256 not checked/);
      expect(existsSync(join(work, 'empty', 'backend.json'))).to.equal(true);
    });

    /** A stream that records what is drawn on it, a terminal or not. */
    const recordingStream = (isTTY: boolean): { isTTY: boolean; columns: number; written: string[]; write(chunk: string): boolean } => ({
      isTTY,
      columns: 100,
      written: [],
      write(chunk: string) {
        this.written.push(chunk);
        return true;
      },
    });
    const restoreWithProgress = (stream: ReturnType<typeof recordingStream>, dataDir: string): Promise<number> =>
      runSnapshotCommand(['restore', snapshotPath, '--config-file', config, '--data-dir', dataDir], {
        defaults: DEFAULTS,
        builtins: BUILTINS,
        io: { cwd: work, out: () => undefined, err: () => undefined, progress: stream },
        loadOptions: { batchOps: 100 },
      });

    it('draws a progress bar on a terminal: the sha256 check by bytes, then the revisions restored', async () => {
      const tty = recordingStream(true);
      expect(await restoreWithProgress(tty, 'with-bar')).to.equal(0);
      const drawn = tty.written.join('');
      const size = (await readFile(snapshotPath)).length;
      expect(drawn).to.match(/^\rchecking sha256 \[/);
      expect(drawn).to.include(`] 100% ${(size / 1024 / 1024).toFixed(1)} MiB/${(size / 1024 / 1024).toFixed(1)} MiB`);
      const restored = /\rrestoring (\d+) revisions\s*\n$/.exec(drawn);
      expect(restored, JSON.stringify(drawn.slice(-200))).to.not.equal(null);
      expect(Number(restored![1])).to.be.greaterThan(100);
      // Each phase ends its line; nothing else is printed between the redraws.
      expect(drawn.split('\n').filter((l) => l !== '')).to.have.length(2);
    });

    it('stays quiet when stderr is not a terminal (a pipe, a file, CI)', async () => {
      const pipe = recordingStream(false);
      expect(await restoreWithProgress(pipe, 'no-bar')).to.equal(0);
      expect(pipe.written).to.deep.equal([]);
    });

    const text5k = 'not a snapshot\n'.repeat(350);
    const refusals: { name: string; prepare: (work: string) => Promise<string[]>; message: RegExp }[] = [
      { name: 'a missing file', prepare: async () => ['missing.db'], message: /cannot read the snapshot .*missing\.db: ENOENT/ },
      {
        name: 'a file that is not bbolt',
        message: /not-bolt\.db: not a valid bbolt database: no valid meta page/,
        prepare: async (w) => {
          await writeFile(join(w, 'not-bolt.db'), text5k);
          return ['not-bolt.db'];
        },
      },
      {
        name: 'a hash mismatch',
        message: /flipped\.db: sha256 mismatch/,
        prepare: async (w) => {
          const file = Buffer.from(await readFile(snapshotPath));
          file[file.length - 4096 - 100] ^= 0x20;
          await writeFile(join(w, 'flipped.db'), file);
          return ['flipped.db'];
        },
      },
      {
        name: 'a file without a trailer',
        message: /no sha256 trailer.*--skip-hash-check/,
        prepare: async (w) => {
          const file = await readFile(snapshotPath);
          await writeFile(join(w, 'bare.db'), file.subarray(0, file.length - 32));
          return ['bare.db'];
        },
      },
      {
        name: 'a truncated file',
        message: /half\.db: not a valid bbolt database: truncated/,
        prepare: async (w) => {
          const file = await readFile(snapshotPath);
          await writeFile(join(w, 'half.db'), file.subarray(0, 40960));
          return ['half.db', '--skip-hash-check'];
        },
      },
      {
        name: 'damage found while loading (no trailer to catch it first)',
        message: /mid-damage\.db: not a valid bbolt database: page 200 carries the id 999/,
        prepare: async (w) => {
          const file = Buffer.from(await readFile(snapshotPath));
          file.writeBigUInt64LE(999n, 200 * 4096); // a leaf of the key bucket, well into the load
          await writeFile(join(w, 'mid-damage.db'), file.subarray(0, file.length - 32));
          return ['mid-damage.db', '--skip-hash-check'];
        },
      },
      {
        name: 'a data dir already in use',
        message: /data-dir: .*data already holds data \(member\)/,
        prepare: async (w) => {
          mkdirSync(join(w, 'data', 'member'), { recursive: true });
          writeFileSync(join(w, 'data', 'member', 'x'), 'x');
          return [snapshotPath];
        },
      },
      {
        name: 'the in-memory backend',
        message: /plugins\.storage: the backend is the in-memory plugin "memory"/,
        prepare: async (w) => {
          writeFileSync(join(w, 'cairn.yaml'), 'plugins:\n  storage: { use: memory }\n');
          return [snapshotPath];
        },
      },
      {
        name: 'a second FILE',
        message: /expected one snapshot FILE, got 2/,
        prepare: async () => [snapshotPath, snapshotPath],
      },
      {
        name: 'an unknown flag',
        message: /flags: Unknown option '--listen-client-urls'/,
        prepare: async () => [snapshotPath, '--listen-client-urls', 'http://127.0.0.1:1'],
      },
      {
        name: 'a name missing from initial-cluster',
        message: /initial-cluster has no member named "n2"/,
        prepare: async () => [snapshotPath, '--name', 'n2', '--initial-cluster', 'n1=http://127.0.0.1:2380'],
      },
    ];
    for (const refusal of refusals) {
      it(`refuses ${refusal.name}: one line, exit code 2, the data dir as it was`, async () => {
        const args = await refusal.prepare(work);
        const before = listing(join(work, 'data'));
        const r = await restoreCommand([...args, '--config-file', config, '--data-dir', 'data'], work);
        expect(r.code, r.err.join('\n')).to.equal(2);
        expect(r.err).to.have.length(1);
        expect(r.err[0])
          .to.match(/^cairn: snapshot restore: /)
          .and.to.match(refusal.message);
        expect(listing(join(work, 'data')), 'data dir unchanged').to.deep.equal(before);
        expect(
          readdirSync(work).filter((n) => n.includes('restoring')),
          'no staging dir left behind',
        ).to.deep.equal([]);
      });
    }
  });
});
