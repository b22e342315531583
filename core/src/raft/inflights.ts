/**
 * Append messages a leader has in flight to one follower, as a FIFO of (last index, bytes).
 * Bounded both in count and in bytes: when full, the leader stops sending to that follower until
 * acknowledgements free room. This is what keeps a slow follower from eating the leader's memory.
 */
export class Inflights {
  private readonly items: { index: number; bytes: number }[] = [];
  private head = 0;
  private totalBytes = 0;

  constructor(
    private readonly maxCount: number,
    private readonly maxBytes: number,
  ) {}

  add(lastIndex: number, bytes: number): void {
    this.items.push({ index: lastIndex, bytes });
    this.totalBytes += bytes;
  }

  /** Release every message whose last index is ≤ `index` (acknowledged). */
  freeTo(index: number): void {
    while (this.head < this.items.length && this.items[this.head]!.index <= index) {
      this.totalBytes -= this.items[this.head]!.bytes;
      this.head++;
    }
    if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Release the oldest message (a heartbeat answered while the window was full). */
  freeFirst(): void {
    if (this.head < this.items.length) this.freeTo(this.items[this.head]!.index);
  }

  get count(): number {
    return this.items.length - this.head;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  full(): boolean {
    return this.count >= this.maxCount || (this.maxBytes > 0 && this.totalBytes >= this.maxBytes);
  }

  reset(): void {
    this.items.length = 0;
    this.head = 0;
    this.totalBytes = 0;
  }
}
