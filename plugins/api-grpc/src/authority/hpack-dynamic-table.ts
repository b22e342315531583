/** Every entry costs its name and value octets plus 32 (RFC 7541 §4.1). */
export const ENTRY_OVERHEAD = 32;

export type TableEntry = readonly [name: string, value: string];

/**
 * HPACK's dynamic table (RFC 7541 §2.3.2, §4): newest entry first, oldest evicted first when an
 * insertion or a smaller maximum would exceed the maximum size. Names and values are latin1
 * strings, one char per octet, so `length` is the octet count.
 */
export class HpackDynamicTable {
  private readonly entries: TableEntry[] = [];
  private octets = 0;

  constructor(private max: number) {}

  get maxSize(): number {
    return this.max;
  }

  /** The size the entries take, as HPACK counts it. */
  get size(): number {
    return this.octets;
  }

  get length(): number {
    return this.entries.length;
  }

  /** Entry `i` counting from the newest (0), or undefined past the end. */
  get(i: number): TableEntry | undefined {
    return this.entries[i];
  }

  add(name: string, value: string): void {
    const cost = name.length + value.length + ENTRY_OVERHEAD;
    // An entry larger than the table empties it and is not added (§4.4).
    this.evictUntil(Math.max(0, this.max - cost));
    if (cost <= this.max) {
      this.entries.unshift([name, value]);
      this.octets += cost;
    }
  }

  resize(max: number): void {
    this.max = max;
    this.evictUntil(max);
  }

  private evictUntil(room: number): void {
    while (this.octets > room) {
      const [name, value] = this.entries.pop()!;
      this.octets -= name.length + value.length + ENTRY_OVERHEAD;
    }
  }
}
