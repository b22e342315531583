/** One key's write that LMDB does not hold yet: its stored record, or undefined for a delete. */
export interface PendingWrite {
  readonly key: Uint8Array;
  readonly record: Uint8Array | undefined;
}

/**
 * Backend writes of one commit, by key. The key string is the key's bytes as Latin-1, one
 * character per byte, so strings compare in the keys' unsigned byte order.
 */
export type WriteLayer = Map<string, PendingWrite>;

export function layerKey(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

/**
 * The writes of `layers` (newest first; the newest write of a key wins) whose keys lie in
 * [gte, lt), sorted ascending, or descending when `reverse`.
 */
export function pendingInRange(layers: readonly WriteLayer[], gte: string | undefined, lt: string | undefined, reverse: boolean): PendingWrite[] {
  const seen = new Map<string, PendingWrite>();
  for (const layer of layers) {
    for (const [k, write] of layer) {
      if ((gte !== undefined && k < gte) || (lt !== undefined && k >= lt) || seen.has(k)) continue;
      seen.set(k, write);
    }
  }
  const keys = [...seen.keys()].sort();
  if (reverse) keys.reverse();
  return keys.map((k) => seen.get(k)!);
}
