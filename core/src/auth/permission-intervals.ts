import { PermissionType, type Permission } from '../api/auth-types.js';
import { keyString } from '../api/key-interval.js';

/** A half-open key interval [start, end) in latin1 string form; `end` undefined: no upper bound (etcd's "from key"). */
interface Interval {
  readonly start: string;
  readonly end: string | undefined;
}

/** Where a permission's `rangeEnd` puts it: empty is the one key, "\0" every key from `key` on. */
function permissionInterval(p: Permission): Interval {
  const start = keyString(p.key);
  if (p.rangeEnd.length === 0) return { start, end: `${start}\0` };
  if (p.rangeEnd.length === 1 && p.rangeEnd[0] === 0) return { start, end: undefined };
  return { start, end: keyString(p.rangeEnd) };
}

/** endA ≥ endB with undefined as +∞. */
const endCovers = (a: string | undefined, b: string | undefined): boolean => a === undefined || (b !== undefined && a >= b);

/**
 * One user's keys for one kind of access, as sorted, disjoint, non-adjacent intervals: the union
 * of every interval their roles grant. A request is allowed when one merged interval covers it
 * (etcd's interval tree answers "is the union covering it"; merging makes that one binary search).
 */
export class MergedIntervals {
  private readonly intervals: readonly Interval[];

  constructor(intervals: Interval[]) {
    intervals.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    const merged: { start: string; end: string | undefined }[] = [];
    for (const next of intervals) {
      const last = merged[merged.length - 1];
      // Overlapping or touching: [a, b) and [b, c) cover [a, c) together.
      if (last !== undefined && (last.end === undefined || next.start <= last.end)) {
        if (!endCovers(last.end, next.end)) last.end = next.end;
      } else merged.push({ ...next });
    }
    this.intervals = merged;
  }

  get size(): number {
    return this.intervals.length;
  }

  /** Whether [key, rangeEnd) in etcd's forms (empty: the key alone; "\0": from key) lies inside one merged interval. */
  covers(key: Uint8Array, rangeEnd: Uint8Array | undefined): boolean {
    const start = keyString(key);
    const candidate = this.lastStartingAtOrBefore(start);
    if (candidate === undefined) return false;
    if (rangeEnd === undefined || rangeEnd.length === 0) return candidate.end === undefined || start < candidate.end;
    if (rangeEnd.length === 1 && rangeEnd[0] === 0) return candidate.end === undefined;
    const end = keyString(rangeEnd);
    // An empty range ([k, e) with e ≤ k) asks for no key beyond its start: check the start alone.
    if (end <= start) return candidate.end === undefined || start < candidate.end;
    return endCovers(candidate.end, end);
  }

  private lastStartingAtOrBefore(key: string): Interval | undefined {
    let lo = 0;
    let hi = this.intervals.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.intervals[mid]!.start <= key) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? undefined : this.intervals[lo - 1];
  }
}

/** A user's merged read and write permissions (etcd's unifiedRangePermissions). */
export interface UserPermissions {
  readonly read: MergedIntervals;
  readonly write: MergedIntervals;
}

/** Merges every permission of the given roles into read and write intervals. */
export function mergePermissions(permissions: Iterable<Permission>): UserPermissions {
  const read: Interval[] = [];
  const write: Interval[] = [];
  for (const p of permissions) {
    const interval = permissionInterval(p);
    if (p.permType === PermissionType.Read || p.permType === PermissionType.ReadWrite) read.push(interval);
    if (p.permType === PermissionType.Write || p.permType === PermissionType.ReadWrite) write.push(interval);
  }
  return { read: new MergedIntervals(read), write: new MergedIntervals(write) };
}
