import { SeededRandom } from '../../memory/seeded-random.js';
import { sleep } from './assertions.js';
import { buildDiskStore, moduleHref, removeDirectory, temporaryDirectory } from './disk-store-module.js';
import { assertOneOf } from './log-store-checks.js';
import { CRASH_WORKLOAD, logStatesAfterCrash } from './log-workload.js';
import { assertStableOneOf, stableStatesAfterCrash } from './stable-store-checks.js';
import { StorageChildProcess } from './storage-child-process.js';
import type { WorkloadTask } from './storage-child-task.js';
import type { DiskStoreTarget } from './store-fixture.js';

export interface SigkillCheckOptions {
  /** Child processes to kill, each on a fresh directory (default 3). */
  readonly rounds?: number;
  /** Seed of the workloads and of the moments of the kills (default 1). */
  readonly seed?: number;
  /** Kill after this many acknowledgements at least and at most (default 3 and 40), plus 0-20 ms. */
  readonly minAcks?: number;
  readonly maxAcks?: number;
}

/** One round of a SIGKILL check: what the child acknowledged before it died. */
export interface SigkillRound {
  readonly seed: number;
  readonly acknowledged: number;
}

/**
 * A child process runs a seeded workload on a fresh directory and prints a line per resolved
 * operation; it is killed with SIGKILL at a seeded moment, and then what it left must satisfy
 * `verify` given the number of the last line it printed.
 */
async function killRounds(
  target: DiskStoreTarget,
  task: WorkloadTask['task'],
  options: SigkillCheckOptions,
  verify: (directory: string, seed: number, acknowledged: number) => Promise<void>,
): Promise<SigkillRound[]> {
  const rounds = options.rounds ?? 3;
  const seed = options.seed ?? 1;
  const done: SigkillRound[] = [];
  for (let round = 0; round < rounds; round++) {
    const roundSeed = seed * 7919 + round;
    const random = new SeededRandom(roundSeed ^ 0x1b873593);
    const killAfter = random.int(options.minAcks ?? 3, (options.maxAcks ?? 40) + 1);
    const delayMs = random.int(0, 21);
    const directory = await temporaryDirectory('kill');
    const child = new StorageChildProcess({
      task,
      module: moduleHref(target.module),
      directory,
      seed: roundSeed,
      operations: 2000,
      shape: 'crash',
      afterLast: 'wait',
    });
    try {
      await child.waitFor(() => child.acknowledged >= killAfter, `${killAfter} operations were acknowledged`);
      await sleep(delayMs);
      child.kill();
      const exit = await child.exited;
      if (exit.signal !== 'SIGKILL') throw new Error(`the storage child ended by itself (${child.describeExit()}) before it was killed${child.stderrSuffix()}`);
      const acknowledged = child.acknowledged;
      await verify(directory, roundSeed, acknowledged);
      done.push({ seed: roundSeed, acknowledged });
    } finally {
      child.kill();
      await child.exited;
      await removeDirectory(directory);
    }
  }
  return done;
}

/**
 * SIGKILL check of a LogStore: every operation the child reported resolved (appends, suffix
 * replacements, truncations, compactions) is there after the kill, with the same bytes.
 */
export function checkLogStoreSurvivesSigkill(target: DiskStoreTarget, options: SigkillCheckOptions = {}): Promise<SigkillRound[]> {
  return killRounds(target, 'log-workload', options, async (directory, seed, acknowledged) => {
    const store = await buildDiskStore(target.module, 'createLogStore', directory);
    await store.open();
    try {
      await assertOneOf(
        store,
        logStatesAfterCrash(seed, CRASH_WORKLOAD, acknowledged),
        `reopened after SIGKILL with ${acknowledged} operations acknowledged (seed ${seed})`,
      );
    } finally {
      await store.close();
    }
  });
}

/** SIGKILL check of a StableStore: load() is the last state the child reported saved, or the one it was saving. */
export function checkStableStoreSurvivesSigkill(target: DiskStoreTarget, options: SigkillCheckOptions = {}): Promise<SigkillRound[]> {
  return killRounds(target, 'stable-workload', options, async (directory, seed, acknowledged) => {
    const store = await buildDiskStore(target.module, 'createStableStore', directory);
    await store.open();
    try {
      assertStableOneOf(
        await store.load(),
        stableStatesAfterCrash(seed, acknowledged),
        `reopened after SIGKILL with ${acknowledged} saves acknowledged (seed ${seed})`,
      );
    } finally {
      await store.close();
    }
  });
}
