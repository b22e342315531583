import type { LogStore } from '../../../ports/log-store.js';
import { EntryType, type Entry } from '../../../protocol/raft-types.js';
import { SeededRandom } from '../../memory/seeded-random.js';
import { LogModel } from './log-model.js';
import { taggedBytes } from './sample-entries.js';

/** One durable LogStore operation of a workload. */
export type LogOperation =
  | { readonly kind: 'append'; readonly entries: readonly Entry[] }
  | { readonly kind: 'truncateFrom'; readonly index: number }
  | { readonly kind: 'compactTo'; readonly index: number; readonly term: number };

/** How big a workload's batches are: small and recognisable under strace, bigger under SIGKILL. */
export interface LogWorkloadShape {
  readonly maxEntriesPerBatch: number;
  readonly minEntryBytes: number;
  readonly maxEntryBytes: number;
  /** Chance that a batch carries one large entry, and its size bound. */
  readonly largeEntryChance: number;
  readonly maxLargeEntryBytes: number;
}

export const CRASH_WORKLOAD: LogWorkloadShape = {
  maxEntriesPerBatch: 12,
  minEntryBytes: 0,
  maxEntryBytes: 2048,
  largeEntryChance: 0.03,
  maxLargeEntryBytes: 256 * 1024,
};
export const TRACE_WORKLOAD: LogWorkloadShape = { maxEntriesPerBatch: 4, minEntryBytes: 64, maxEntryBytes: 1500, largeEntryChance: 0, maxLargeEntryBytes: 0 };

/** The marker inside the data of every entry of operation `op` (fixed width, so no tag is a prefix of another). */
export function operationTag(seed: number, op: number): string {
  return `cairn-kit-${(seed >>> 0).toString(16).padStart(8, '0')}-op${op.toString().padStart(7, '0')}-`;
}

/**
 * A seeded sequence of log operations as Raft issues them: mostly appends at the end, sometimes a
 * conflicting suffix replaced by a newer term, a truncation, or a compaction (now and then past
 * the end, as when a snapshot is installed). The parent and the child of a crash check replay the
 * same sequence from the same seed, so the child only has to say how many operations resolved.
 */
export class LogWorkload {
  readonly model = new LogModel();
  private readonly random: SeededRandom;
  private term = 1;
  /** Operations produced so far. */
  count = 0;

  constructor(
    readonly seed: number,
    readonly shape: LogWorkloadShape,
  ) {
    this.random = new SeededRandom(seed);
  }

  /** The next operation, already applied to `model`. */
  next(): LogOperation {
    const op = this.draw(++this.count);
    applyToModel(this.model, op);
    return op;
  }

  private draw(op: number): LogOperation {
    const r = this.random;
    const m = this.model;
    const roll = op <= 2 ? 1 : r.next();
    if (roll < 0.12 && m.lastIndex >= m.firstIndex) {
      this.term++;
      return this.batch(op, r.int(Math.max(m.firstIndex, m.lastIndex - 6), m.lastIndex + 1));
    }
    // Never a no-op: the fsync check expects every operation to reach the disk.
    if (roll < 0.16 && m.lastIndex >= m.firstIndex) return { kind: 'truncateFrom', index: r.int(Math.max(m.firstIndex, m.lastIndex - 4), m.lastIndex + 1) };
    if (roll < 0.22) {
      if (r.chance(0.2)) {
        this.term++;
        return { kind: 'compactTo', index: m.lastIndex + r.int(1, 4), term: this.term };
      }
      if (m.lastIndex > m.firstIndex) {
        const index = r.int(m.firstIndex, m.lastIndex);
        return { kind: 'compactTo', index, term: m.term(index)! };
      }
    }
    return this.batch(op, m.lastIndex + 1);
  }

  private batch(op: number, from: number): LogOperation {
    const r = this.random;
    const s = this.shape;
    const tag = operationTag(this.seed, op);
    const count = r.int(1, s.maxEntriesPerBatch + 1);
    const large = r.chance(s.largeEntryChance) ? r.int(0, count) : -1;
    const entries: Entry[] = [];
    for (let i = 0; i < count; i++) {
      const bytes = i === large ? r.int(s.maxEntryBytes, s.maxLargeEntryBytes + 1) : r.int(s.minEntryBytes, s.maxEntryBytes + 1);
      entries.push({
        index: from + i,
        term: this.term,
        type: r.chance(0.1) ? EntryType.ConfChange : EntryType.Normal,
        data: taggedBytes(`${tag}${i};`, bytes),
      });
    }
    return { kind: 'append', entries };
  }
}

export function applyToModel(model: LogModel, op: LogOperation): void {
  if (op.kind === 'append') model.append(op.entries);
  else if (op.kind === 'truncateFrom') model.truncateFrom(op.index);
  else model.compactTo(op.index, op.term);
}

export function applyToStore(store: LogStore, op: LogOperation): Promise<void> {
  if (op.kind === 'append') return store.append(op.entries);
  if (op.kind === 'truncateFrom') return store.truncateFrom(op.index);
  return store.compactTo(op.index, op.term);
}

/**
 * The states a log may be in after operations 1..`acknowledged` resolved and operation
 * `acknowledged + 1` may have been under way: before it or after it, or, for a plain append at
 * the end, with a prefix of its entries.
 */
export function logStatesAfterCrash(seed: number, shape: LogWorkloadShape, acknowledged: number): LogModel[] {
  const workload = new LogWorkload(seed, shape);
  for (let i = 0; i < acknowledged; i++) workload.next();
  const before = workload.model.clone();
  const op = workload.next();
  const states = [before, workload.model.clone()];
  if (op.kind === 'append' && op.entries[0]!.index === before.lastIndex + 1) {
    for (let n = 1; n < op.entries.length; n++) {
      const partial = before.clone();
      partial.append(op.entries.slice(0, n));
      states.push(partial);
    }
  }
  return states;
}
