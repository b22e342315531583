import { createHash } from 'node:crypto';

/**
 * A snapshot of `totalBytes` that exists only one chunk at a time: each chunk is made when the
 * transport pulls it. Comparing what was made with what the receiver has consumed tells how far
 * the sender ran ahead, i.e. how much of the snapshot the transport held at once.
 */
export class LazySnapshot {
  generated = 0;
  consumed = 0;
  /** The largest generated − consumed seen when a chunk was made. */
  maxLead = 0;
  private readonly hash = createHash('sha256');

  constructor(
    readonly totalBytes: number,
    readonly chunkBytes = 1 << 20,
  ) {}

  async *stream(): AsyncGenerator<Uint8Array> {
    for (let n = 0; this.generated < this.totalBytes; n++) {
      const length = Math.min(this.chunkBytes, this.totalBytes - this.generated);
      const chunk = new Uint8Array(length).fill(n & 0xff);
      // The chunk number in its first bytes, so reordered chunks change the digest.
      new DataView(chunk.buffer).setUint32(0, n);
      this.hash.update(chunk);
      this.generated += length;
      this.maxLead = Math.max(this.maxLead, this.generated - this.consumed);
      yield chunk;
    }
  }

  /** sha256 of what was generated (call after the stream ended). */
  digest(): string {
    return this.hash.digest('hex');
  }
}
