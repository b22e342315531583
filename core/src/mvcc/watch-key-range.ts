/**
 * The keys one watcher covers, as etcd's watch request names them: a single key, a half-open
 * range [key, end), or every key from `key` on. Compared as unsigned bytes, like the Backend.
 */
export class WatchKeyRange {
  private constructor(
    readonly key: Uint8Array,
    /** Undefined: the single key; empty: no upper bound. */
    readonly end: Uint8Array | undefined,
  ) {}

  /**
   * From a request's key and range_end: an empty key means "\0" (the smallest key), an empty
   * range_end the single key, "\0" every key ≥ key. Undefined when the range is empty (key ≥ end).
   */
  static of(key: Uint8Array, rangeEnd: Uint8Array | undefined): WatchKeyRange | undefined {
    const start = key.length === 0 ? Uint8Array.of(0) : key;
    if (rangeEnd === undefined || rangeEnd.length === 0) return new WatchKeyRange(start, undefined);
    if (rangeEnd.length === 1 && rangeEnd[0] === 0) return new WatchKeyRange(start, new Uint8Array(0));
    if (Buffer.compare(start, rangeEnd) >= 0) return undefined;
    return new WatchKeyRange(start, rangeEnd);
  }

  includes(key: Uint8Array): boolean {
    if (this.end === undefined) return Buffer.compare(key, this.key) === 0;
    if (Buffer.compare(key, this.key) < 0) return false;
    return this.end.length === 0 || Buffer.compare(key, this.end) < 0;
  }
}
