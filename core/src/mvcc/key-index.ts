import type { Revision } from './revision-key.js';

/** One revision of a key, with what a read needs besides the value. */
export interface IndexedRevision extends Revision {
  readonly tombstone: boolean;
  readonly createRevision: number;
  readonly version: number;
  readonly lease: bigint;
}

/** Keys are held as binary strings (one char per byte), whose order is the unsigned byte order. */

function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** One shared zero lease for index entries: a BigInt decoded per record would cost every key a heap object. */
export const NO_LEASE = 0n;

/**
 * A key's revisions, oldest first: most keys have exactly one, held as itself, since an array
 * (and the spare capacity V8 gives it on the first push) would cost several times the revision.
 */
type History = IndexedRevision | IndexedRevision[];

const revisionsOf = (h: History): readonly IndexedRevision[] => (Array.isArray(h) ? h : [h]);

/**
 * The in-memory index of the MVCC store: for each key, its revisions in order (values stay in the
 * Backend). Rebuilt from the Backend's records at open.
 */
export class KeyIndex {
  private readonly sorted: string[] = [];
  private readonly history = new Map<string, History>();

  get keyCount(): number {
    return this.sorted.length;
  }

  /** Record a new revision of `key` (revisions arrive in increasing order). */
  add(key: string, rev: IndexedRevision): void {
    const h = this.history.get(key);
    if (h === undefined) {
      this.history.set(key, rev);
      this.sorted.splice(lowerBound(this.sorted, key), 0, key);
    } else if (Array.isArray(h)) {
      h.push(rev);
    } else {
      this.history.set(key, [h, rev]);
    }
  }

  /** The newest revision of `key` at or below `atRev`, if it is not a tombstone. */
  liveAt(key: string, atRev: number): IndexedRevision | undefined {
    const h = this.history.get(key);
    if (h === undefined) return undefined;
    const revs = revisionsOf(h);
    for (let i = revs.length - 1; i >= 0; i--) {
      const r = revs[i]!;
      if (r.main <= atRev) return r.tombstone ? undefined : r;
    }
    return undefined;
  }

  /**
   * Keys in [start, end) in order; `end` undefined means just `start`, and the empty string means
   * "to the last key".
   */
  *keysInRange(start: string, end: string | undefined, reverse = false): Iterable<string> {
    if (end === undefined) {
      if (this.history.has(start)) yield start;
      return;
    }
    const from = lowerBound(this.sorted, start);
    const to = end === '' ? this.sorted.length : lowerBound(this.sorted, end);
    if (reverse) for (let i = to - 1; i >= from; i--) yield this.sorted[i]!;
    else for (let i = from; i < to; i++) yield this.sorted[i]!;
  }

  /**
   * Drop what compaction at `rev` makes unreachable: for each key, every revision older than its
   * newest one at or below `rev`, and that one too if it is a tombstone. Returns what was dropped.
   */
  compact(rev: number, plantedBug = false): Revision[] {
    const dropped: Revision[] = [];
    const emptied: string[] = [];
    for (const [key, h] of this.history) {
      const revs = revisionsOf(h);
      let keep = -1;
      for (let i = revs.length - 1; i >= 0; i--) {
        if (revs[i]!.main <= rev) {
          keep = i;
          break;
        }
      }
      if (keep < 0) continue;
      // The planted bug (tests only) also drops the live revision that reads at `rev` still need.
      const cut = revs[keep]!.tombstone || plantedBug ? keep + 1 : keep;
      if (cut === 0) continue;
      for (const r of revs.slice(0, cut)) dropped.push(r);
      const left = revs.slice(cut);
      if (left.length === 0) emptied.push(key);
      else this.history.set(key, left.length === 1 ? left[0]! : left);
    }
    for (const key of emptied) {
      this.history.delete(key);
      this.sorted.splice(lowerBound(this.sorted, key), 1);
    }
    return dropped;
  }
}
