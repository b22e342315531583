import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import type { StableState, StableStore } from '../../../ports/stable-store.js';
import { SeededRandom } from '../../memory/seeded-random.js';
import { stableStateNumber } from './stable-workload.js';
import type { StoreFixtureFactory } from './store-fixture.js';
import { StoreIncarnations, type StorageCheck } from './store-incarnations.js';

export interface StableStoreCheckOptions {
  /** Rounds of the in-process crash check (default 4). */
  readonly crashRounds?: number;
  /** Seed of every random choice (default 1). */
  readonly seed?: number;
}

type Stores = StoreIncarnations<StableStore>;

async function assertLoads(stores: Stores, expected: StableState | undefined, when: string): Promise<void> {
  assert.deepEqual(await stores.store.load(), expected, `load() ${when}`);
  await stores.reopen();
  assert.deepEqual(await stores.store.load(), expected, `load() ${when}, after close and reopen`);
}

/** The StableStore checks, in the order the suite runs them. */
export function stableStoreChecks(options: StableStoreCheckOptions = {}): StorageCheck<StableStore>[] {
  const seed = options.seed ?? 1;
  return [
    {
      title: 'a fresh store loads undefined',
      async run(stores) {
        await assertLoads(stores, undefined, 'of a fresh store');
      },
    },
    {
      title: 'load() returns what save() stored, field by field',
      async run(stores) {
        const state: StableState = {
          hardState: { term: 2 ** 40 + 3, vote: '00000000000000a2', commit: 123_456_789 },
          confState: { voters: ['00000000000000a1', '00000000000000a2', '00000000000000a3'], learners: ['00000000000000b1'] },
          clusterId: 'f00df00df00df00d',
          memberId: '00000000000000a1',
        };
        await stores.store.save(state);
        assert.deepEqual(await stores.store.load(), state, 'load() right after save()');
        assert.deepEqual(await stores.store.load(), state, 'a second load()');
        await assertLoads(stores, state, 'after one save');
      },
    },
    {
      title: 'a save replaces the previous state whole',
      async run(stores) {
        const first = stableStateNumber(seed, 2);
        const second: StableState = {
          hardState: { term: 3, vote: '', commit: 0 },
          confState: { voters: ['00000000000000a1'], learners: [] },
          clusterId: first.clusterId,
          memberId: '00000000000000a1',
        };
        await stores.store.save(first);
        await stores.store.save(second);
        await assertLoads(stores, second, 'after a smaller state replaced a larger one');
        await stores.store.save(first);
        await assertLoads(stores, first, 'after the larger one came back');
      },
    },
    {
      title: 'keeps the last of many saves across close and reopen; close is idempotent',
      async run(stores) {
        for (let k = 1; k <= 50; k++) await stores.store.save(stableStateNumber(seed, k));
        await Promise.all([stores.store.close(), stores.store.close()]);
        await stores.store.close();
        await stores.reopen();
        assert.deepEqual(await stores.store.load(), stableStateNumber(seed, 50), 'load() after 50 saves, close and reopen');
        await stores.store.save(stableStateNumber(seed, 51));
        await assertLoads(stores, stableStateNumber(seed, 51), 'after a save on the reopened store');
      },
    },
  ];
}

/** What load() may return after saves 1..`acknowledged` resolved and save `acknowledged + 1` was under way. */
export function stableStatesAfterCrash(seed: number, acknowledged: number): (StableState | undefined)[] {
  return [acknowledged === 0 ? undefined : stableStateNumber(seed, acknowledged), stableStateNumber(seed, acknowledged + 1)];
}

export function assertStableOneOf(actual: StableState | undefined, allowed: readonly (StableState | undefined)[], when: string): void {
  if (allowed.some((state) => isDeepStrictEqual(actual, state))) return;
  assert.deepEqual(actual, allowed[0], `${when}: load() is neither the last acknowledged state nor the one being saved`);
}

/**
 * The in-process crash check, for fixtures with `crash()`: saves run one after another, power
 * fails at a seeded moment, and the next incarnation loads the last acknowledged state or the one
 * that was being saved — never an older one, never a mix.
 */
export async function checkStableStoreSurvivesCrashes(factory: StoreFixtureFactory<StableStore>, options: StableStoreCheckOptions = {}): Promise<void> {
  const rounds = options.crashRounds ?? 4;
  const seed = options.seed ?? 1;
  for (let round = 0; round < rounds; round++) {
    const stores = await StoreIncarnations.open(factory);
    try {
      if (!stores.canCrash) throw new Error('the fixture has no crash(): the in-process crash check cannot run');
      const saveSeed = seed * 7919 + round;
      const random = new SeededRandom(saveSeed ^ 0x27d4eb2d);
      const crashAt = random.int(1, 30);
      let acknowledged = 0;
      for (let k = 1; k <= crashAt; k++) {
        const done = stores.store.save(stableStateNumber(saveSeed, k));
        if (k < crashAt) {
          await done;
          acknowledged = k;
        } else {
          void done.then(
            () => {
              acknowledged = k;
            },
            () => undefined,
          );
        }
      }
      for (let turns = random.int(0, 4); turns > 0; turns--) await Promise.resolve();
      const atCrash = acknowledged;
      await stores.crashAndReopen();
      assertStableOneOf(
        await stores.store.load(),
        stableStatesAfterCrash(saveSeed, atCrash),
        `round ${round} (seed ${saveSeed}): crashed with ${atCrash} saves acknowledged`,
      );
    } finally {
      await stores.dispose();
    }
  }
}
