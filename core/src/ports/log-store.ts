import type { Entry } from '../protocol/raft-types.js';
import type { Lifecycle } from './lifecycle.js';

/**
 * The Raft log. Indexes are contiguous; the log holds [firstIndex, lastIndex] and remembers the
 * index and term of the last entry compacted away (the snapshot point), so that
 * `term(firstIndex - 1)` answers. A fresh log: firstIndex 1, lastIndex 0, term(0) = 0.
 *
 * "Durable" means on stable storage: fsync/fdatasync (or msync MS_SYNC) returned, not merely
 * written to the page cache. A crash loses nothing that a resolved call reported durable.
 */
export interface LogStore extends Lifecycle {
  /**
   * Append contiguous entries. If `entries[0].index <= lastIndex`, the entries from that index on
   * are replaced (a conflicting suffix is truncated in the same atomic write). Resolves only when
   * the whole batch is durable, with one sync for the batch. Throws RangeError when the batch
   * would leave a gap (entries[0].index > lastIndex + 1) or reach below firstIndex.
   */
  append(entries: readonly Entry[]): Promise<void>;
  /** Entries in [lo, hi), at least one if lo < hi, stopping before the total data size exceeds maxBytes. RangeError outside [firstIndex, lastIndex + 1]. */
  entries(lo: number, hi: number, maxBytes?: number): Promise<Entry[]>;
  /** Term of entry `index`, for index in [firstIndex - 1, lastIndex]; undefined outside. */
  term(index: number): Promise<number | undefined>;
  firstIndex(): number;
  lastIndex(): number;
  /** Durably remove entries with index >= `index`. */
  truncateFrom(index: number): Promise<void>;
  /**
   * Durably drop entries with index <= `index` (which had term `term`): afterwards
   * firstIndex = index + 1 and term(index) = term. Compacting past lastIndex empties the log and
   * moves it to start after `index` (used when a snapshot is installed).
   */
  compactTo(index: number, term: number): Promise<void>;
}

export const LOG_STORE = Symbol.for('cairn.port.LogStore');
