import sortedBtree from 'sorted-btree';
import type { Revision } from './revision-key.js';

/** One revision of a key, with what a read needs besides the value. */
export interface IndexedRevision extends Revision {
  readonly tombstone: boolean;
  readonly createRevision: number;
  readonly version: number;
  readonly lease: bigint;
}

/** Keys are held as binary strings (one char per byte), whose order is the unsigned byte order. */

/** sorted-btree is CommonJS: under ESM its class is the module's `default` property. */
const BTree = sortedBtree.default;

/** Unsigned byte order of binary strings (sorted-btree's default comparator also orders mixed types, which costs). */
const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

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
 * Backend). Rebuilt from the Backend's records at open. Lookups go through a hash map; order comes
 * from a B+ tree of the keys, so a new key costs O(log n), not a splice of every key after it.
 */
export class KeyIndex {
  private readonly sorted = new BTree<string, undefined>(undefined, byteOrder);
  private readonly history = new Map<string, History>();

  /** Keys whose newest revision is not a tombstone (etcd's etcd_debugging_mvcc_keys_total). */
  private live = 0;

  get keyCount(): number {
    return this.sorted.size;
  }

  get liveKeyCount(): number {
    return this.live;
  }

  /** Record a new revision of `key` (revisions arrive in increasing order). */
  add(key: string, rev: IndexedRevision): void {
    const h = this.history.get(key);
    const wasLive = h !== undefined && !(Array.isArray(h) ? h[h.length - 1]! : h).tombstone;
    if (!rev.tombstone && !wasLive) this.live++;
    else if (rev.tombstone && wasLive) this.live--;
    if (h === undefined) {
      this.history.set(key, rev);
      this.sorted.set(key, undefined);
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
    if (reverse) {
      const fromLast = end === '' ? this.sorted.entriesReversed() : this.sorted.entriesReversed(end, undefined, true);
      for (const [key] of fromLast) {
        if (key < start) return;
        yield key;
      }
    } else {
      for (const key of this.sorted.keys(start)) {
        if (end !== '' && key >= end) return;
        yield key;
      }
    }
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
      if (left.length === 0) {
        emptied.push(key);
        // Only the planted bug drops a key whose newest revision is live.
        if (!revs[cut - 1]!.tombstone) this.live--;
      } else this.history.set(key, left.length === 1 ? left[0]! : left);
    }
    for (const key of emptied) {
      this.history.delete(key);
      this.sorted.delete(key);
    }
    return dropped;
  }
}
