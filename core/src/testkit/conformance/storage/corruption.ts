import { cp, mkdir, open, readdir, readFile, stat, truncate } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Lifecycle } from '../../../ports/lifecycle.js';
import type { LogStore } from '../../../ports/log-store.js';
import type { SnapshotStore } from '../../../ports/snapshot-store.js';
import type { StableStore } from '../../../ports/stable-store.js';
import { EntryType, type Entry, type SnapshotMeta } from '../../../protocol/raft-types.js';
import { SeededRandom } from '../../memory/seeded-random.js';
import { buildDiskStore, moduleHref, removeDirectory, temporaryDirectory } from './disk-store-module.js';
import { applyToStore, CRASH_WORKLOAD, LogWorkload } from './log-workload.js';
import { pseudoRandomBytes, taggedBytes } from './sample-entries.js';
import { stableStateNumber } from './stable-workload.js';
import { StorageChildProcess } from './storage-child-process.js';
import type { ReadTask, StoreReadResult } from './storage-child-task.js';
import { logSummaryDifference, summarizeLogModel, summarizeSnapshot, type LogSummary, type SnapshotSummary, type StoreSummary } from './store-summaries.js';
import type { DiskStoreBuilder, DiskStores, DiskStoreTarget } from './store-fixture.js';

export interface CorruptionCheckOptions {
  /**
   * Rounds that flip one byte of a data file (default 8: half anywhere, half inside acknowledged
   * data) and rounds that tear an unacknowledged tail (default 3).
   */
  readonly flipRounds?: number;
  readonly tearRounds?: number;
  readonly seed?: number;
}

/** What happened in one round: the damage and how the store took it. */
export interface CorruptionRound {
  readonly damage: string;
  /** 'refused': an error naming the file; 'intact': the acknowledged data read back exactly; 'cut': a torn tail cut off. */
  readonly outcome: 'refused' | 'intact' | 'cut';
}

export interface CorruptionReport {
  readonly rounds: readonly CorruptionRound[];
  /** Why no tear rounds ran, when none did (no data file grew with the unacknowledged write). */
  readonly tearsSkipped?: string;
}

/** A port's part in the corruption check: what to write, and which reads are acceptable. */
interface CorruptionScenario<B extends DiskStoreBuilder> {
  readonly builder: B;
  readonly readTask: ReadTask['task'];
  /** Writes the acknowledged state and closes nothing. */
  writeAcknowledged(store: DiskStores[B]): Promise<void>;
  /** Writes what the tear rounds treat as never acknowledged. */
  writeUnacknowledged(store: DiskStores[B]): Promise<void>;
  /** Why `summary` is not the acknowledged state, or undefined when it is. */
  intactDifference(summary: StoreSummary): string | undefined;
  /** True when `summary` is the acknowledged state plus part (or all) of the unacknowledged write. */
  isCutTail(summary: StoreSummary): boolean;
  /**
   * Byte strings found only in the acknowledged data: half of the flips land inside one of their
   * occurrences in the data files, so that a store whose files are mostly free space is hit where
   * its data is.
   */
  markers(): readonly Uint8Array[];
  /** The port promises to verify before it hands data out, so an error only while reading is too late. */
  readonly verifiesBeforeRead?: boolean;
}

/** Regular files under `directory`, by '/'-separated relative path, with their sizes. */
async function filesUnder(directory: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const entry of await readdir(directory, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.set(relative(directory, path).split(sep).join('/'), (await stat(path)).size);
  }
  return out;
}

async function flipByte(path: string, position: number, mask: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, position);
    byte[0] = byte[0]! ^ mask;
    await handle.write(byte, 0, 1, position);
  } finally {
    await handle.close();
  }
}

async function withStore<B extends DiskStoreBuilder>(
  target: DiskStoreTarget,
  builder: B,
  directory: string,
  use: (store: DiskStores[B]) => Promise<void>,
): Promise<void> {
  const store = await buildDiskStore(target.module, builder, directory);
  await (store as Lifecycle).open();
  try {
    await use(store);
  } finally {
    await (store as Lifecycle).close();
  }
}

/** Where the markers occur in the data files (at most 64 occurrences per marker and file). */
async function markerOccurrences(
  directory: string,
  files: readonly string[],
  markers: readonly Uint8Array[],
): Promise<{ file: string; at: number; length: number }[]> {
  const found: { file: string; at: number; length: number }[] = [];
  for (const file of files) {
    const bytes = await readFile(join(directory, file));
    for (const marker of markers) {
      for (let at = bytes.indexOf(marker), n = 0; at >= 0 && n < 64; at = bytes.indexOf(marker, at + 1), n++)
        found.push({ file, at, length: marker.byteLength });
    }
  }
  return found;
}

/**
 * Reads every directory in child processes, one child for all of them: a store that crashes the
 * process on bad data (a signal, an abort) fails that directory only, and a new child goes on.
 */
async function readInChildren(
  target: DiskStoreTarget,
  task: ReadTask['task'],
  directories: readonly string[],
): Promise<(StoreReadResult | { crashed: string })[]> {
  const results: (StoreReadResult | { crashed: string })[] = [];
  while (results.length < directories.length) {
    const rest = directories.slice(results.length);
    const child = new StorageChildProcess({ task, module: moduleHref(target.module), directories: rest });
    try {
      await child.exited;
    } finally {
      child.kill();
    }
    const found = child.lines.flatMap((line) => {
      const m = /^result (\d+) (.*)$/.exec(line);
      return m === null ? [] : [JSON.parse(m[2]!) as StoreReadResult];
    });
    results.push(...found);
    if (found.length < rest.length) {
      if (child.lines.every((l) => !l.startsWith('ready ')))
        throw new Error(`the storage reader did not start: ${child.describeExit()}${child.stderrSuffix()}`);
      results.push({ crashed: `${child.describeExit()}${child.stderrSuffix()}` });
    }
  }
  return results;
}

const namesFile = (error: { message: string; file?: string }, directory: string): boolean =>
  error.message.includes(directory) || (error.file?.includes(directory) ?? false);

async function runCorruption<B extends DiskStoreBuilder>(
  target: DiskStoreTarget,
  scenario: CorruptionScenario<B>,
  options: CorruptionCheckOptions,
): Promise<CorruptionReport> {
  const seed = options.seed ?? 1;
  const random = new SeededRandom(seed ^ 0x68e31da4);
  const work = await temporaryDirectory('corrupt');
  const acknowledged = join(work, 'acknowledged');
  const withTail = join(work, 'with-tail');
  const rounds: CorruptionRound[] = [];
  const problems: string[] = [];
  try {
    await mkdir(acknowledged);
    await withStore(target, scenario.builder, acknowledged, (store) => scenario.writeAcknowledged(store));
    const before = await filesUnder(acknowledged);
    const dataFiles = [...before.keys()].filter((f) => target.dataFiles.test(f) && before.get(f)! > 0).sort();
    if (dataFiles.length === 0) {
      throw new Error(`no non-empty file under the store matches dataFiles ${target.dataFiles}; the files are: ${[...before.keys()].join(', ') || 'none'}`);
    }
    await cp(acknowledged, withTail, { recursive: true });
    await withStore(target, scenario.builder, withTail, (store) => scenario.writeUnacknowledged(store));
    const after = await filesUnder(withTail);
    const grown = [...after.entries()]
      .filter(([f, size]) => target.dataFiles.test(f) && size > (before.get(f) ?? 0))
      .map(([f]) => f)
      .sort();

    const damaged: { directory: string; damage: string; allowCut: boolean }[] = [];
    const targets = await markerOccurrences(acknowledged, dataFiles, scenario.markers());
    for (let round = 0; round < (options.flipRounds ?? 8); round++) {
      const targeted = round % 2 === 1 && targets.length > 0;
      const target = targeted ? random.pick(targets) : undefined;
      const file = target?.file ?? random.pick(dataFiles);
      const position = target === undefined ? random.int(0, before.get(file)!) : target.at + random.int(0, target.length);
      const mask = random.int(1, 256);
      const directory = join(work, `flip-${round}`);
      await cp(acknowledged, directory, { recursive: true });
      await flipByte(join(directory, file), position, mask);
      damaged.push({
        directory,
        damage: `byte ${position} of ${file} (${before.get(file)} bytes${targeted ? ', inside acknowledged data' : ''}) xor 0x${mask.toString(16)}`,
        allowCut: false,
      });
    }
    let tearsSkipped: string | undefined;
    if (grown.length === 0) {
      tearsSkipped = 'no data file grew when the unacknowledged write was added';
    } else {
      for (let round = 0; round < (options.tearRounds ?? 3); round++) {
        const file = random.pick(grown);
        const from = before.get(file) ?? 0;
        const length = random.int(from, after.get(file)!);
        const directory = join(work, `tear-${round}`);
        await cp(withTail, directory, { recursive: true });
        await truncate(join(directory, file), length);
        damaged.push({ directory, damage: `${file} cut to ${length} bytes (acknowledged ${from}, written ${after.get(file)})`, allowCut: true });
      }
    }

    const results = await readInChildren(
      target,
      scenario.readTask,
      damaged.map((d) => d.directory),
    );
    damaged.forEach(({ directory, damage, allowCut }, i) => {
      const result = results[i]!;
      if ('crashed' in result) {
        problems.push(`${damage}: reading the damaged store ended in neither an error nor data: ${result.crashed}`);
      } else if (!result.ok) {
        const e = result.error;
        if (scenario.verifiesBeforeRead === true && e.stage === 'read') {
          problems.push(
            `${damage}: latest() returned a snapshot whose data then failed to read (${e.message}): latest() must verify the checksum before it returns`,
          );
        } else if (namesFile(e, directory)) {
          rounds.push({ damage, outcome: 'refused' });
        } else {
          problems.push(`${damage}: refused at ${e.stage} with an error that does not name the file (no path under ${directory}): ${e.name}: ${e.message}`);
        }
      } else {
        const difference = scenario.intactDifference(result.summary);
        if (difference === undefined) rounds.push({ damage, outcome: 'intact' });
        else if (allowCut && scenario.isCutTail(result.summary)) rounds.push({ damage, outcome: 'cut' });
        else problems.push(`${damage}: read back wrong data without an error: ${difference}`);
      }
    });
    if (problems.length > 0) throw new Error(`corruption: ${problems.length} damaged store(s) handled wrongly:\n  ${problems.join('\n  ')}`);
    return tearsSkipped === undefined ? { rounds } : { rounds, tearsSkipped };
  } finally {
    await removeDirectory(work);
  }
}

/**
 * Corruption check of a LogStore: a seeded workload is written and acknowledged; then, on copies
 * of the closed store, one byte of a data file is flipped (the store must refuse, naming the file,
 * or read back exactly what was acknowledged), or a data file that grew with a further,
 * unacknowledged append is cut inside that growth (the store may also cut the torn tail off).
 */
export function checkLogStoreCorruption(target: DiskStoreTarget, options: CorruptionCheckOptions = {}): Promise<CorruptionReport> {
  const workload = new LogWorkload((options.seed ?? 1) * 31 + 7, CRASH_WORKLOAD);
  let acknowledged: LogSummary | undefined;
  const tails: LogSummary[] = [];
  return runCorruption(
    target,
    {
      builder: 'createLogStore',
      readTask: 'read-log',
      async writeAcknowledged(store: LogStore) {
        for (let n = 0; n < 30; n++) await applyToStore(store, workload.next());
        acknowledged = summarizeLogModel(workload.model);
      },
      async writeUnacknowledged(store: LogStore) {
        const model = workload.model;
        const term = model.term(model.lastIndex)!;
        const tail: Entry[] = Array.from({ length: 8 }, (_, i) => ({
          index: model.lastIndex + 1 + i,
          term,
          type: EntryType.Normal,
          data: taggedBytes(`unacknowledged-${i};`, 3000),
        }));
        await store.append(tail);
        for (let n = 1; n <= tail.length; n++) {
          const m = model.clone();
          m.append(tail.slice(0, n));
          tails.push(summarizeLogModel(m));
        }
      },
      markers: () => {
        const live = workload.model.entries.filter((e) => e.data.byteLength >= 48);
        return Array.from({ length: Math.min(8, live.length) }, (_, i) => live[Math.floor((i * live.length) / 8)]!.data.subarray(0, 40));
      },
      intactDifference: (summary) => (summary.kind === 'log' ? logSummaryDifference(summary.log, acknowledged!) : `a ${summary.kind} summary`),
      isCutTail: (summary) => summary.kind === 'log' && tails.some((t) => logSummaryDifference(summary.log, t) === undefined),
    },
    options,
  );
}

/** Corruption check of a StableStore: the acknowledged state is the 5th of five saves; a 6th is the unacknowledged write. */
export function checkStableStoreCorruption(target: DiskStoreTarget, options: CorruptionCheckOptions = {}): Promise<CorruptionReport> {
  const seed = (options.seed ?? 1) * 31 + 11;
  return runCorruption(
    target,
    {
      builder: 'createStableStore',
      readTask: 'read-stable',
      async writeAcknowledged(store: StableStore) {
        for (let k = 1; k <= 5; k++) await store.save(stableStateNumber(seed, k));
      },
      async writeUnacknowledged(store: StableStore) {
        await store.save(stableStateNumber(seed, 6));
      },
      markers: () => [new TextEncoder().encode(stableStateNumber(seed, 5).hardState.vote)],
      intactDifference: (summary) =>
        summary.kind !== 'stable'
          ? `a ${summary.kind} summary`
          : isDeepStrictEqual(summary.state, stableStateNumber(seed, 5))
            ? undefined
            : `load() returned ${JSON.stringify(summary.state)}`,
      isCutTail: (summary) => summary.kind === 'stable' && isDeepStrictEqual(summary.state, stableStateNumber(seed, 6)),
    },
    options,
  );
}

/** Snapshot data of `bytes` in 256 KiB chunks, fixed by `seed`. */
async function* snapshotData(bytes: number, seed: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0, n = 0; offset < bytes; offset += 256 * 1024, n++) yield pseudoRandomBytes(Math.min(256 * 1024, bytes - offset), seed * 65_537 + n);
}

async function snapshotSummaryOf(meta: SnapshotMeta, bytes: number, seed: number): Promise<SnapshotSummary> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of snapshotData(bytes, seed)) chunks.push(chunk);
  const all = Buffer.concat(chunks);
  return summarizeSnapshot({
    meta,
    size: bytes,
    read: async function* () {
      yield all;
    },
  });
}

/**
 * Corruption check of a SnapshotStore: snapshots at index 10 and 20 are acknowledged, one at 30
 * is the unacknowledged write. latest() must refuse, naming the file, or return the snapshot at 20
 * (or, after a tear, at 30) with exactly its bytes; a corrupt newest snapshot is never replaced
 * by an older one, and latest() verifies the checksum before it returns (a read that fails later
 * is a failure).
 */
export function checkSnapshotStoreCorruption(target: DiskStoreTarget, options: CorruptionCheckOptions = {}): Promise<CorruptionReport> {
  const meta = (index: number): SnapshotMeta => ({ index, term: index / 10, confState: { voters: ['000000000000000a', '000000000000000b'], learners: [] } });
  const sizes = { 10: 1_500_000, 20: 2_500_000, 30: 1_000_000 } as const;
  let acknowledged: SnapshotSummary | undefined;
  let tail: SnapshotSummary | undefined;
  return runCorruption(
    target,
    {
      builder: 'createSnapshotStore',
      readTask: 'read-snapshot',
      verifiesBeforeRead: true,
      async writeAcknowledged(store: SnapshotStore) {
        await store.save(meta(10), snapshotData(sizes[10], 10));
        await store.save(meta(20), snapshotData(sizes[20], 20));
        acknowledged = await snapshotSummaryOf(meta(20), sizes[20], 20);
      },
      async writeUnacknowledged(store: SnapshotStore) {
        await store.save(meta(30), snapshotData(sizes[30], 30));
        tail = await snapshotSummaryOf(meta(30), sizes[30], 30);
      },
      markers: () =>
        [0, 700_000, 1_400_000, 2_100_000].map((offset) =>
          pseudoRandomBytes(256 * 1024, 20 * 65_537 + Math.floor(offset / (256 * 1024))).subarray(offset % (256 * 1024), (offset % (256 * 1024)) + 32),
        ),
      intactDifference: (summary) =>
        summary.kind !== 'snapshot'
          ? `a ${summary.kind} summary`
          : isDeepStrictEqual(summary.snapshot, acknowledged)
            ? undefined
            : summary.snapshot === null
              ? 'latest() returned no snapshot'
              : `latest() returned index ${summary.snapshot.meta.index}, size ${summary.snapshot.size}, ${summary.snapshot.bytesRead} bytes read, sha256 ${summary.snapshot.sha256.slice(0, 12)} (expected index 20, ${sizes[20]} bytes, sha256 ${acknowledged!.sha256.slice(0, 12)})`,
      isCutTail: (summary) => summary.kind === 'snapshot' && isDeepStrictEqual(summary.snapshot, tail),
    },
    options,
  );
}
