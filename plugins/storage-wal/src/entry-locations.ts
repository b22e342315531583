import type { Entry } from '@cairn/core';

/** Where one entry's record lies: segment sequence, byte position and length in that file. */
export interface EntryLocation {
  readonly term: number;
  readonly segment: number;
  readonly position: number;
  readonly length: number;
  /** Number of the write that carries it: the record is in the file once that write completed. */
  readonly write: number;
}

/**
 * The log as the WAL knows it in memory: the compaction point (offset, offsetTerm) and, for every
 * entry after it, its term and where its record lies. The newest entries are also held whole, up to
 * `cacheBytes` of data, so Raft's reads of what it just appended (replication, apply) never touch
 * the disk. Slots are kept in plain arrays from `base` on; compaction moves a start pointer and
 * drops the dead slots once they are the larger part.
 */
export class EntryLocations {
  offset = 0;
  offsetTerm = 0;
  private base = 1;
  private terms: number[] = [];
  private segments: number[] = [];
  private positions: number[] = [];
  private lengths: number[] = [];
  private writes: number[] = [];
  private cached: (Entry | undefined)[] = [];
  /** First slot that may still hold a cached entry; those before it were evicted. */
  private cacheStart = 0;
  private cachedBytes = 0;

  constructor(private readonly cacheBytes: number) {}

  get last(): number {
    return this.base + this.terms.length - 1 > this.offset ? this.base + this.terms.length - 1 : this.offset;
  }

  /** Empty log after `offset` (whose term is `offsetTerm`). */
  reset(offset: number, offsetTerm: number): void {
    this.offset = offset;
    this.offsetTerm = offsetTerm;
    this.base = offset + 1;
    this.terms = [];
    this.segments = [];
    this.positions = [];
    this.lengths = [];
    this.writes = [];
    this.cached = [];
    this.cacheStart = 0;
    this.cachedBytes = 0;
  }

  /** Add entry `index` (must be last + 1); `entry` is the whole entry to cache, when there is one. */
  push(index: number, location: EntryLocation, entry?: Entry): void {
    if (index !== this.last + 1) throw new RangeError(`entry ${index} after last index ${this.last}`);
    this.terms.push(location.term);
    this.segments.push(location.segment);
    this.positions.push(location.position);
    this.lengths.push(location.length);
    this.writes.push(location.write);
    this.cached.push(entry);
    if (entry === undefined) return;
    this.cachedBytes += entry.data.byteLength;
    while (this.cachedBytes > this.cacheBytes && this.cacheStart < this.cached.length - 1) this.evictOldest();
  }

  /** Drop entries >= index. */
  truncateFrom(index: number): void {
    const keep = Math.max(0, index - this.base);
    if (keep >= this.terms.length) return;
    for (let slot = Math.max(keep, this.cacheStart); slot < this.cached.length; slot++) this.cachedBytes -= this.cached[slot]?.data.byteLength ?? 0;
    this.terms.length = keep;
    this.segments.length = keep;
    this.positions.length = keep;
    this.lengths.length = keep;
    this.writes.length = keep;
    this.cached.length = keep;
    this.cacheStart = Math.min(this.cacheStart, keep);
  }

  /** Drop entries <= index, which had term `term`; past the last entry the log is emptied and moves. */
  compactTo(index: number, term: number): void {
    if (index >= this.last) {
      this.reset(index, term);
      return;
    }
    const dead = index + 1 - this.base;
    while (this.cacheStart < dead) this.evictOldest();
    this.offset = index;
    this.offsetTerm = term;
    if (dead > 1024 && dead * 2 > this.terms.length) {
      this.terms.splice(0, dead);
      this.segments.splice(0, dead);
      this.positions.splice(0, dead);
      this.lengths.splice(0, dead);
      this.writes.splice(0, dead);
      this.cached.splice(0, dead);
      this.cacheStart -= dead;
      this.base += dead;
    }
  }

  /** Term of `index` in [offset, last]; undefined outside. */
  term(index: number): number | undefined {
    if (index === this.offset) return this.offsetTerm;
    if (index < this.offset || index > this.last) return undefined;
    return this.terms[index - this.base];
  }

  location(index: number): EntryLocation {
    const slot = index - this.base;
    return { term: this.terms[slot]!, segment: this.segments[slot]!, position: this.positions[slot]!, length: this.lengths[slot]!, write: this.writes[slot]! };
  }

  cachedEntry(index: number): Entry | undefined {
    return this.cached[index - this.base];
  }

  private evictOldest(): void {
    const entry = this.cached[this.cacheStart];
    if (entry !== undefined) {
      this.cachedBytes -= entry.data.byteLength;
      this.cached[this.cacheStart] = undefined;
    }
    this.cacheStart++;
  }
}
