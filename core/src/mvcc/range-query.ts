import { SortOrder, SortTarget, type KeyValue, type RangeRequest } from '../api/kv-types.js';

/** etcd fetches every match (not limit + 1) when it must sort or filter before cutting to limit. */
export function needsEveryMatch(r: RangeRequest): boolean {
  return (
    (r.sortOrder ?? SortOrder.None) !== SortOrder.None ||
    (r.sortTarget ?? SortTarget.Key) !== SortTarget.Key ||
    (r.minModRevision ?? 0) !== 0 ||
    (r.maxModRevision ?? 0) !== 0 ||
    (r.minCreateRevision ?? 0) !== 0 ||
    (r.maxCreateRevision ?? 0) !== 0
  );
}

/** The revision filters of a RangeRequest (0 = no bound). */
export function passesRevisionFilters(r: RangeRequest, kv: Pick<KeyValue, 'modRevision' | 'createRevision'>): boolean {
  if ((r.maxModRevision ?? 0) !== 0 && kv.modRevision > r.maxModRevision!) return false;
  if ((r.minModRevision ?? 0) !== 0 && kv.modRevision < r.minModRevision!) return false;
  if ((r.maxCreateRevision ?? 0) !== 0 && kv.createRevision > r.maxCreateRevision!) return false;
  if ((r.minCreateRevision ?? 0) !== 0 && kv.createRevision < r.minCreateRevision!) return false;
  return true;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/**
 * Sort as etcd does: a sort target without an order means ascending; ties keep key order (a
 * stable sort, so results are the same on every member and every run).
 */
export function sortKeyValues(kvs: KeyValue[], r: RangeRequest): void {
  const target = r.sortTarget ?? SortTarget.Key;
  let order = r.sortOrder ?? SortOrder.None;
  if (order === SortOrder.None && target !== SortTarget.Key) order = SortOrder.Ascend;
  if (order === SortOrder.None) return;
  const by = (a: KeyValue, b: KeyValue): number => {
    switch (target) {
      case SortTarget.Key:
        return compareBytes(a.key, b.key);
      case SortTarget.Version:
        return a.version - b.version;
      case SortTarget.Create:
        return a.createRevision - b.createRevision;
      case SortTarget.Mod:
        return a.modRevision - b.modRevision;
      case SortTarget.Value:
        return compareBytes(a.value, b.value);
      default:
        return 0;
    }
  };
  kvs.sort(order === SortOrder.Descend ? (a, b) => by(b, a) : by);
}
