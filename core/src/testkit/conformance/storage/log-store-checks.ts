import assert from 'node:assert/strict';
import type { LogStore } from '../../../ports/log-store.js';
import type { Entry } from '../../../protocol/raft-types.js';
import { SeededRandom } from '../../memory/seeded-random.js';
import { assertRangeError } from './assertions.js';
import { assertLogMatches, entryDifference, LogModel } from './log-model.js';
import { applyToStore, CRASH_WORKLOAD, LogWorkload, logStatesAfterCrash } from './log-workload.js';
import { sampleEntries, sampleEntry } from './sample-entries.js';
import type { StoreFixtureFactory } from './store-fixture.js';
import { StoreIncarnations, type StorageCheck } from './store-incarnations.js';

export interface LogStoreCheckOptions {
  /** Size of the large entries (default 6 MiB). */
  readonly largeEntryBytes?: number;
  /** Number of small entries (default 20000). */
  readonly smallEntryCount?: number;
  /** Rounds of the in-process crash check (default 4). */
  readonly crashRounds?: number;
  /** Seed of every random choice (default 1). */
  readonly seed?: number;
}

type Stores = StoreIncarnations<LogStore>;

/** Appends `batch` to both the store and the model. */
async function append(stores: Stores, model: LogModel, batch: readonly Entry[]): Promise<void> {
  await stores.store.append(batch);
  model.append(batch);
}

/** Asserts the store matches the model now and after a close and reopen. */
async function assertDurable(stores: Stores, model: LogModel, when: string): Promise<void> {
  await assertLogMatches(stores.store, model, when);
  await stores.reopen();
  await assertLogMatches(stores.store, model, `${when}, after close and reopen`);
}

async function assertSlice(store: LogStore, model: LogModel, lo: number, hi: number, maxBytes?: number): Promise<void> {
  const got = await store.entries(lo, hi, maxBytes);
  const expected: Entry[] = [];
  let size = 0;
  for (let i = lo; i < hi; i++) {
    const e = model.entry(i);
    size += e.data.byteLength;
    if (maxBytes !== undefined && expected.length > 0 && size > maxBytes) break;
    expected.push(e);
  }
  const call = `entries(${lo}, ${hi}${maxBytes === undefined ? '' : `, ${maxBytes}`})`;
  assert.equal(got.length, expected.length, `${call} returned ${got.length} entries, expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const difference = entryDifference(got[i], expected[i]!);
    if (difference !== undefined) assert.fail(`${call}: ${difference}`);
  }
}

async function assertReadBounds(store: LogStore, model: LogModel, when: string): Promise<void> {
  const { firstIndex: first, lastIndex: last } = model;
  await assertRangeError(() => store.entries(first - 1, last + 1), `entries(firstIndex - 1 = ${first - 1}, ...) ${when}`);
  await assertRangeError(() => store.entries(first, last + 2), `entries(..., lastIndex + 2 = ${last + 2}) ${when}`);
  assert.deepEqual(await store.entries(last + 1, last + 1), [], `entries(lastIndex + 1, lastIndex + 1) ${when}`);
  assert.deepEqual(await store.entries(first, first), [], `entries(firstIndex, firstIndex) ${when}`);
}

/** Asserts that `call` is refused with a RangeError and leaves the log as the model has it. */
async function assertRefused(stores: Stores, model: LogModel, call: () => unknown, what: string): Promise<void> {
  await assertRangeError(call, what);
  await assertLogMatches(stores.store, model, `after the refused ${what}`);
}

/** The LogStore checks, in the order the suite runs them. */
export function logStoreChecks(options: LogStoreCheckOptions = {}): StorageCheck<LogStore>[] {
  const largeBytes = options.largeEntryBytes ?? 6 * 1024 * 1024;
  const smallCount = options.smallEntryCount ?? 20_000;
  const seed = options.seed ?? 1;

  const checks: StorageCheck<LogStore>[] = [
    {
      title: 'a fresh log: firstIndex 1, lastIndex 0, term(0) = 0, nothing to read',
      async run(stores) {
        const model = new LogModel();
        const store = stores.store;
        await assertLogMatches(store, model, 'fresh');
        assert.equal(await store.term(1), undefined, 'term(1) of a fresh log');
        await assertRangeError(() => store.entries(0, 1), 'entries(0, 1) of a fresh log');
        await assertRangeError(() => store.entries(1, 2), 'entries(1, 2) of a fresh log');
        await store.append([]);
        await assertDurable(stores, model, 'fresh, after append([])');
      },
    },
    {
      title: 'appends in order and answers term() and entries() at every edge',
      async run(stores) {
        const model = new LogModel();
        await append(stores, model, sampleEntries(1, 5, 1));
        await append(stores, model, sampleEntries(6, 10, 2));
        for (let i = 11; i <= 15; i++) await append(stores, model, [sampleEntry(i, 3)]);
        const store = stores.store;
        for (let lo = 1; lo <= 16; lo++) {
          for (let hi = lo; hi <= 16; hi++) await assertSlice(store, model, lo, hi);
        }
        for (let i = 0; i <= 16; i++) assert.equal(await store.term(i), model.term(i), `term(${i})`);
        assert.equal(await store.term(-1), undefined, 'term(-1)');
        await assertReadBounds(store, model, 'on [1, 15]');
        await assertDurable(stores, model, 'after 15 appends');
      },
    },
    {
      title: 'refuses with RangeError an append that would leave a gap or reach below firstIndex, changing nothing',
      async run(stores) {
        const model = new LogModel();
        await assertRefused(stores, model, () => stores.store.append([sampleEntry(2, 1)]), 'append at 2 to an empty log');
        await append(stores, model, sampleEntries(1, 10, 1));
        await assertRefused(stores, model, () => stores.store.append([sampleEntry(12, 1)]), 'append at lastIndex + 2');
        await assertRefused(stores, model, () => stores.store.append(sampleEntries(20, 22, 1)), 'append at lastIndex + 10');
        await stores.store.compactTo(5, 1);
        model.compactTo(5, 1);
        await assertRefused(stores, model, () => stores.store.append([sampleEntry(5, 2)]), 'append at firstIndex - 1 after compactTo(5)');
        await assertRefused(stores, model, () => stores.store.append(sampleEntries(2, 8, 2)), 'append at 2 after compactTo(5)');
        await append(stores, model, sampleEntries(6, 7, 2));
        await assertDurable(stores, model, 'after refused appends and an append at firstIndex');
      },
    },
    {
      title: 'replaces a conflicting suffix within the append that overwrites it',
      async run(stores) {
        const model = new LogModel();
        await append(stores, model, sampleEntries(1, 10, 1));
        await append(stores, model, sampleEntries(6, 8, 2));
        assert.equal(await stores.store.term(9), undefined, 'term(9) after 6..8 replaced 6..10');
        await assertDurable(stores, model, 'after 6..8 of term 2 replaced 6..10');
        await append(stores, model, [sampleEntry(8, 3)]);
        await assertLogMatches(stores.store, model, 'after the last entry was replaced');
        await append(stores, model, sampleEntries(9, 12, 3));
        await append(stores, model, sampleEntries(1, 3, 4));
        await assertDurable(stores, model, 'after the whole log was replaced from index 1');
        await stores.store.compactTo(2, 4);
        model.compactTo(2, 4);
        await append(stores, model, sampleEntries(3, 6, 5));
        await assertDurable(stores, model, 'after a replacement starting at firstIndex');
      },
    },
    {
      title: 'truncateFrom at every edge: past the end, the last entry, the middle, firstIndex',
      async run(stores) {
        const model = new LogModel();
        await append(stores, model, sampleEntries(1, 10, 1));
        for (const index of [12, 11, 10, 7]) {
          await stores.store.truncateFrom(index);
          model.truncateFrom(index);
          await assertLogMatches(stores.store, model, `after truncateFrom(${index})`);
        }
        await assertDurable(stores, model, 'after truncations to 1..6');
        await stores.store.truncateFrom(1);
        model.truncateFrom(1);
        await assertDurable(stores, model, 'after truncateFrom(1) emptied the log');
        await append(stores, model, sampleEntries(1, 6, 2));
        await stores.store.compactTo(3, 2);
        model.compactTo(3, 2);
        await stores.store.truncateFrom(4);
        model.truncateFrom(4);
        await assertLogMatches(stores.store, model, 'after compactTo(3) and truncateFrom(firstIndex)');
        await assertReadBounds(stores.store, model, 'on an empty log after compaction');
        await append(stores, model, sampleEntries(4, 5, 3));
        await assertDurable(stores, model, 'after an append to a compacted log truncated to empty');
      },
    },
    {
      title: 'compactTo at every edge: nothing, the first entry, the middle, lastIndex, past lastIndex',
      async run(stores) {
        const model = new LogModel();
        await stores.store.compactTo(0, 0);
        await assertLogMatches(stores.store, model, 'after compactTo(0, 0) of a fresh log');
        await append(stores, model, [...sampleEntries(1, 4, 1), ...sampleEntries(5, 12, 2)]);
        for (const index of [1, 6]) {
          await stores.store.compactTo(index, model.term(index)!);
          model.compactTo(index, model.term(index)!);
          await assertLogMatches(stores.store, model, `after compactTo(${index})`);
          await assertReadBounds(stores.store, model, `after compactTo(${index})`);
          await assertSlice(stores.store, model, model.firstIndex, model.lastIndex + 1);
        }
        await assertDurable(stores, model, 'after compactTo(6)');
        await stores.store.compactTo(12, 2);
        model.compactTo(12, 2);
        await assertLogMatches(stores.store, model, 'after compactTo(lastIndex)');
        await assertRefused(stores, model, () => stores.store.append([sampleEntry(12, 3)]), 'append at the compacted index');
        await append(stores, model, sampleEntries(13, 15, 3));
        await stores.store.compactTo(20, 5);
        model.compactTo(20, 5);
        assert.deepEqual(
          [stores.store.firstIndex(), stores.store.lastIndex(), await stores.store.term(20)],
          [21, 20, 5],
          '[firstIndex, lastIndex, term(20)] after compactTo(20, 5) of the log [13, 15]',
        );
        await assertDurable(stores, model, 'after compaction past lastIndex');
        await assertRefused(stores, model, () => stores.store.append([sampleEntry(16, 5)]), 'append at the old lastIndex + 1 after compaction past it');
        await append(stores, model, sampleEntries(21, 23, 5));
        await assertDurable(stores, model, 'after appending to a log moved by compaction');
      },
    },
    {
      title: 'entries(lo, hi, maxBytes) stops before maxBytes, and returns at least one entry',
      async run(stores) {
        const model = new LogModel();
        await append(
          stores,
          model,
          [100, 200, 300, 400, 500].map((bytes, i) => sampleEntry(i + 1, 1, bytes)),
        );
        const store = stores.store;
        for (const maxBytes of [0, 1, 99, 100, 101, 299, 300, 599, 600, 1000, 1499, 1500, 10_000, Number.MAX_SAFE_INTEGER]) {
          await assertSlice(store, model, 1, 6, maxBytes);
        }
        await assertSlice(store, model, 3, 5, 1);
        await assertSlice(store, model, 2, 3, 0);
        await assertSlice(store, model, 2, 6, 700);
        assert.deepEqual(await store.entries(4, 4, 0), [], 'entries(4, 4, 0)');
        await store.compactTo(2, 1);
        model.compactTo(2, 1);
        await assertSlice(store, model, 3, 6, 0);
        await assertSlice(store, model, 3, 6, 700);
        await assertSlice(store, model, 5, 6, 1);
      },
    },
    {
      title: `keeps large entries (${(largeBytes / 2 ** 20).toFixed(1)} MiB) whole`,
      async run(stores) {
        const model = new LogModel();
        await append(stores, model, [sampleEntry(1, 1, largeBytes), sampleEntry(2, 1, 1), sampleEntry(3, 1, largeBytes >> 1), sampleEntry(4, 1, 0)]);
        await append(stores, model, [sampleEntry(5, 2, largeBytes)]);
        await assertSlice(stores.store, model, 1, 6, 1);
        await assertSlice(stores.store, model, 2, 6, largeBytes);
        await assertDurable(stores, model, 'after appending large entries');
        await append(stores, model, [sampleEntry(3, 3, 16)]);
        await assertDurable(stores, model, 'after a small entry replaced the large ones');
      },
    },
    {
      title: `keeps ${smallCount} small entries, appended in batches`,
      async run(stores) {
        const model = new LogModel();
        const random = new SeededRandom(seed);
        const batch = Math.max(1, Math.ceil(smallCount / 40));
        for (let from = 1; from <= smallCount; from += batch) {
          const entries: Entry[] = [];
          for (let i = from; i < Math.min(smallCount + 1, from + batch); i++) entries.push(sampleEntry(i, 1 + (i >> 12), random.int(0, 64)));
          await append(stores, model, entries);
        }
        for (let n = 0; n < 50; n++) {
          const lo = random.int(1, smallCount + 1);
          await assertSlice(
            stores.store,
            model,
            lo,
            random.int(lo, Math.min(smallCount + 1, lo + 3000)),
            random.chance(0.5) ? random.int(0, 20_000) : undefined,
          );
        }
        await stores.store.truncateFrom(smallCount - 1000);
        model.truncateFrom(smallCount - 1000);
        await stores.store.compactTo(1000, model.term(1000)!);
        model.compactTo(1000, model.term(1000)!);
        await assertDurable(stores, model, `after ${smallCount} small entries, a truncation and a compaction`);
      },
    },
    {
      title: 'keeps everything across close and reopen; close is idempotent',
      async run(stores) {
        const model = new LogModel();
        await append(stores, model, sampleEntries(1, 30, 1));
        await append(stores, model, sampleEntries(25, 40, 2));
        await stores.store.compactTo(10, 1);
        model.compactTo(10, 1);
        await stores.store.truncateFrom(38);
        model.truncateFrom(38);
        await Promise.all([stores.store.close(), stores.store.close()]);
        await stores.store.close();
        await stores.reopen();
        await assertLogMatches(stores.store, model, 'after close (three times) and reopen');
        await stores.reopen();
        await assertLogMatches(stores.store, model, 'after a second reopen with no writes');
        await append(stores, model, sampleEntries(38, 45, 3));
        await assertDurable(stores, model, 'after an append on the reopened store');
      },
    },
  ];
  return checks;
}

/**
 * The in-process crash check, for fixtures with `crash()`: on a fresh fixture per round, a seeded
 * workload runs, power fails at a seeded moment (sometimes while an operation is under way), and
 * the next incarnation must hold every operation that had resolved.
 */
export async function checkLogStoreSurvivesCrashes(factory: StoreFixtureFactory<LogStore>, options: LogStoreCheckOptions = {}): Promise<void> {
  const rounds = options.crashRounds ?? 4;
  const seed = options.seed ?? 1;
  for (let round = 0; round < rounds; round++) {
    const stores = await StoreIncarnations.open(factory);
    try {
      if (!stores.canCrash) throw new Error('the fixture has no crash(): the in-process crash check cannot run');
      const workloadSeed = seed * 7919 + round;
      const random = new SeededRandom(workloadSeed ^ 0x5bd1e995);
      const workload = new LogWorkload(workloadSeed, CRASH_WORKLOAD);
      const crashAt = random.int(1, 60);
      let acknowledged = 0;
      for (let op = 1; op <= crashAt; op++) {
        const done = applyToStore(stores.store, workload.next());
        if (op < crashAt) {
          await done;
          acknowledged = op;
        } else {
          void done.then(
            () => {
              acknowledged = op;
            },
            () => undefined,
          );
        }
      }
      // Let the last operation run a little, or not at all, before the power goes.
      for (let turns = random.int(0, 4); turns > 0; turns--) await Promise.resolve();
      const atCrash = acknowledged;
      await stores.crashAndReopen();
      await assertOneOf(
        stores.store,
        logStatesAfterCrash(workloadSeed, CRASH_WORKLOAD, atCrash),
        `round ${round} (seed ${workloadSeed}): crashed with ${atCrash} operations acknowledged`,
      );
    } finally {
      await stores.dispose();
    }
  }
}

/** Asserts that the store holds one of `states` (the first is named in the failure). */
export async function assertOneOf(store: LogStore, states: readonly LogModel[], when: string): Promise<void> {
  let first: unknown;
  for (const state of states) {
    try {
      await assertLogMatches(store, state, when);
      return;
    } catch (err) {
      first ??= err;
    }
  }
  throw first;
}
