/** Keys as latin1 strings: one char per byte, so string order is byte order. */
export const keyString = (key: Uint8Array): string => Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
export const keyBytes = (key: string): Uint8Array => Buffer.from(key, 'latin1');

/** Where a range starts and ends in the key index's string form (see KeyIndex.keysInRange). */
export interface KeyInterval {
  readonly start: string;
  /** undefined: the single key `start`; '': to the last key. */
  readonly end: string | undefined;
}

const isFromKey = (rangeEnd: Uint8Array): boolean => rangeEnd.length === 1 && rangeEnd[0] === 0;

/** etcd's key/range_end forms: empty end = one key, "\0" = every key ≥ key, else [key, end). */
export function keyInterval(key: Uint8Array, rangeEnd: Uint8Array | undefined): KeyInterval {
  const start = keyString(key);
  if (rangeEnd === undefined || rangeEnd.length === 0) return { start, end: undefined };
  if (isFromKey(rangeEnd)) return { start, end: '' };
  return { start, end: keyString(rangeEnd) };
}

/** Whether `key` lies in the interval (used by the txn duplicate-key check). */
export function intervalContains(interval: KeyInterval, key: string): boolean {
  if (interval.end === undefined) return key === interval.start;
  return key >= interval.start && (interval.end === '' || key < interval.end);
}

/** Two intervals share at least one key. */
export function intervalsOverlap(a: KeyInterval, b: KeyInterval): boolean {
  if (a.end === undefined) return intervalContains(b, a.start);
  if (b.end === undefined) return intervalContains(a, b.start);
  const aBeforeB = a.end !== '' && a.end <= b.start;
  const bBeforeA = b.end !== '' && b.end <= a.start;
  return !aBeforeB && !bBeforeA;
}
