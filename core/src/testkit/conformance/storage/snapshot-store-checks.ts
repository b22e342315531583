import assert from 'node:assert/strict';
import type { SnapshotStore } from '../../../ports/snapshot-store.js';
import type { SnapshotMeta } from '../../../protocol/raft-types.js';
import { directoryBytes } from './directory-size.js';
import { BufferMemoryProbe } from './memory-probe.js';
import { readBack, SnapshotSource } from './snapshot-source.js';
import type { StorageCheck, StoreIncarnations } from './store-incarnations.js';

export interface SnapshotStoreCheckOptions {
  /** How many of the most recently saved snapshots the fixture's stores keep (their `retain` option). */
  readonly retain: number;
  /** The snapshots the store holds, most recently saved first: lets the retention check look past latest(). */
  readonly retained?: (store: SnapshotStore) => Promise<readonly SnapshotMeta[]>;
  /** Bytes of the large streamed snapshot (default 48 MiB). */
  readonly snapshotBytes?: number;
  /**
   * The store keeps snapshot data in memory by design (MemorySnapshotStore): skip the assertion
   * that saving and reading a large snapshot does not hold it whole.
   */
  readonly holdsDataInMemory?: boolean;
}

type Stores = StoreIncarnations<SnapshotStore>;

const MiB = 1 << 20;

export const snapshotMeta = (index: number, term = 1 + Math.floor(index / 100)): SnapshotMeta => ({
  index,
  term,
  confState: { voters: ['000000000000000a', '000000000000000b', '000000000000000c'], learners: index % 20 === 0 ? ['00000000000000d1'] : [] },
});

/** Saves a snapshot of `bytes` (fixed by `index`) and returns its source. */
async function save(store: SnapshotStore, index: number, bytes: number, chunkBytes = 256 * 1024): Promise<SnapshotSource> {
  const source = new SnapshotSource(bytes, index, { chunkBytes });
  await store.save(snapshotMeta(index), source.stream());
  return source;
}

/** Asserts latest() is the snapshot `index` of `source`, with its meta, size and bytes, readable twice. */
async function assertLatest(store: SnapshotStore, index: number, source: SnapshotSource, when: string): Promise<void> {
  const latest = await store.latest();
  assert.ok(latest !== undefined, `latest() ${when}: no snapshot, expected the one at index ${index}`);
  assert.deepEqual(latest.meta, snapshotMeta(index), `latest().meta ${when}`);
  assert.equal(latest.size, source.totalBytes, `latest().size ${when}`);
  for (const pass of ['first', 'second']) {
    const read = await readBack(latest.read());
    assert.equal(read.bytes, source.totalBytes, `bytes read() yielded ${when} (${pass} read)`);
    assert.equal(read.sha256, source.digest(), `sha256 of what read() yielded ${when} (${pass} read)`);
  }
}

async function assertFailedSave(stores: Stores, data: AsyncIterable<Uint8Array>, what: string): Promise<void> {
  let error: unknown;
  try {
    await stores.store.save(snapshotMeta(50), data);
  } catch (err) {
    error = err;
  }
  assert.ok(error !== undefined, `save() resolved although ${what}`);
}

/** The SnapshotStore checks, in the order the suite runs them. */
export function snapshotStoreChecks(options: SnapshotStoreCheckOptions): StorageCheck<SnapshotStore>[] {
  const largeBytes = options.snapshotBytes ?? 48 * MiB;
  return [
    {
      title: 'a fresh store has no latest snapshot',
      async run(stores) {
        assert.equal(await stores.store.latest(), undefined, 'latest() of a fresh store');
        await stores.reopen();
        assert.equal(await stores.store.latest(), undefined, 'latest() of a fresh store after close and reopen');
      },
    },
    {
      title: `streams a ${largeBytes / MiB} MiB snapshot in and out in chunks${options.holdsDataInMemory === true ? '' : ', never holding it whole'}`,
      async run(stores) {
        const probe = options.holdsDataInMemory === true ? undefined : new BufferMemoryProbe();
        const source = new SnapshotSource(largeBytes, 7, {
          chunkBytes: MiB,
          onChunk: (n) => {
            if (n % (4 * MiB) === 0) probe?.sample();
          },
        });
        await stores.store.save(snapshotMeta(100), source.stream());
        probe?.sample();
        const latest = await stores.store.latest();
        assert.ok(latest !== undefined, 'latest() after saving the large snapshot');
        assert.equal(latest.size, largeBytes, 'latest().size');
        let sampledAt = 0;
        const read = await readBack(latest.read(), (n) => {
          if (n - sampledAt < 4 * MiB) return;
          sampledAt = n;
          probe?.sample();
        });
        assert.equal(read.bytes, largeBytes, 'bytes read back');
        assert.equal(read.sha256, source.digest(), 'sha256 of the bytes read back');
        assert.ok(
          read.chunks > 1 && read.largestChunk <= largeBytes / 2,
          `read() yielded ${read.chunks} chunk(s), the largest ${read.largestChunk} bytes: a large snapshot must stream out in pieces`,
        );
        if (probe !== undefined) {
          assert.ok(
            probe.peak < largeBytes / 2,
            `the process held ${(probe.peak / MiB).toFixed(1)} MiB more buffers while saving and reading a ${largeBytes / MiB} MiB snapshot: it was held whole, not streamed`,
          );
        }
      },
    },
    {
      title: 'latest() is the newest snapshot, with its meta, size and data, readable again and again',
      async run(stores) {
        const first = await save(stores.store, 10, 300_000, 7_777);
        await assertLatest(stores.store, 10, first, 'after one save');
        const second = await save(stores.store, 20, 1_000_003, 65_536);
        await assertLatest(stores.store, 20, second, 'after a newer save');
        const empty = new SnapshotSource(0, 30);
        await stores.store.save(snapshotMeta(30), empty.stream());
        await assertLatest(stores.store, 30, empty, 'after an empty snapshot');
        await stores.reopen();
        await assertLatest(stores.store, 30, empty, 'after close and reopen');
      },
    },
    {
      title: 'latest() is the most recently saved snapshot, not the one with the highest index, across reopen too',
      async run(stores) {
        // A member may store a deposed leader's snapshot and then have to install the new leader's,
        // whose index is lower: the later save must be the latest (see the SnapshotStore port).
        await save(stores.store, 40, 100_000);
        const lower = await save(stores.store, 30, 120_000);
        await assertLatest(stores.store, 30, lower, 'after a save at a lower index than the previous one');
        await stores.reopen();
        await assertLatest(stores.store, 30, lower, 'after close and reopen');
        const next = await save(stores.store, 35, 80_000);
        await assertLatest(stores.store, 35, next, 'after one more save');
        if (options.retained !== undefined && options.retain >= 2) {
          assert.deepEqual(
            (await options.retained(stores.store)).slice(0, 2),
            [snapshotMeta(35), snapshotMeta(30)],
            'the two most recently saved, newest first',
          );
        }
      },
    },
    {
      title: 'a save whose data fails midway or at once leaves nothing, and latest() stays the previous snapshot',
      async run(stores) {
        const kept = await save(stores.store, 10, 500_000);
        const keptList = await options.retained?.(stores.store);
        const directory = stores.fixture.directory;
        const failMidway = (seed: number): AsyncIterable<Uint8Array> => new SnapshotSource(16 * MiB, seed, { failAfterBytes: 4 * MiB }).stream();
        await assertFailedSave(stores, failMidway(50), 'its data failed after 4 MiB');
        await assertLatest(stores.store, 10, kept, 'after a save that failed midway');
        await assertFailedSave(stores, new SnapshotSource(MiB, 51, { failAfterBytes: 0 }).stream(), 'its data failed before the first chunk');
        await assertLatest(stores.store, 10, kept, 'after a save that failed at once');
        if (keptList !== undefined) assert.deepEqual(await options.retained!(stores.store), keptList, 'the snapshots held after failed saves');
        if (directory !== undefined) {
          // Engines that reuse pages may keep a file's size; what must not happen is growth per failure.
          const afterOne = await directoryBytes(directory);
          for (const seed of [52, 53, 54]) await assertFailedSave(stores, failMidway(seed), 'its data failed after 4 MiB');
          const afterFour = await directoryBytes(directory);
          assert.ok(
            afterFour <= afterOne + MiB,
            `the store's files grew from ${afterOne} to ${afterFour} bytes with three more saves that failed after 4 MiB: failed saves leave their data behind`,
          );
        }
        await stores.reopen();
        await assertLatest(stores.store, 10, kept, 'after failed saves, close and reopen');
        const next = await save(stores.store, 60, 200_000);
        await assertLatest(stores.store, 60, next, 'after a save that followed the failed ones');
      },
    },
    {
      title: `keeps only the ${options.retain} most recently saved snapshot(s)`,
      async run(stores) {
        const bytes = MiB;
        let newest: SnapshotSource | undefined;
        let saved = 0;
        const saveMore = async (count: number): Promise<void> => {
          for (let n = 0; n < count; n++) newest = await save(stores.store, ++saved * 10, bytes);
        };
        await saveMore(options.retain + 2);
        const directory = stores.fixture.directory;
        const steady = directory === undefined ? undefined : await directoryBytes(directory);
        await saveMore(4);
        await assertLatest(stores.store, saved * 10, newest!, `after ${saved} saves`);
        if (options.retained !== undefined) {
          const expected = Array.from({ length: options.retain }, (_, i) => snapshotMeta((saved - i) * 10));
          assert.deepEqual(await options.retained(stores.store), expected, `the snapshots kept after ${saved} saves, newest first`);
        }
        if (directory !== undefined) {
          // Page-based engines keep freed space in their files; without retention the files grow by each snapshot.
          const total = await directoryBytes(directory);
          assert.ok(
            total <= steady! + bytes,
            `the store's files grew from ${steady} to ${total} bytes with 4 more snapshots of ${bytes} bytes at retain ${options.retain}: older snapshots are not removed`,
          );
        }
        assert.ok(options.retained !== undefined || directory !== undefined, 'retention cannot be observed: give options.retained or a fixture directory');
      },
    },
    {
      title: 'keeps the newest snapshot across close and reopen; close is idempotent',
      async run(stores) {
        await save(stores.store, 10, 100_000);
        const newest = await save(stores.store, 20, 2 * MiB + 5);
        await Promise.all([stores.store.close(), stores.store.close()]);
        await stores.store.close();
        await stores.reopen();
        await assertLatest(stores.store, 20, newest, 'after close (three times) and reopen');
        await stores.reopen();
        await assertLatest(stores.store, 20, newest, 'after a second reopen');
      },
    },
  ];
}
