/**
 * The receiving end of a snapshot stream, handed to `TransportHandler.onSnapshot` as an
 * AsyncIterable. Chunks arrive from the socket; when more than `highWaterBytes` wait unread the
 * socket is paused, and resumed once the reader has caught up, so a slow store slows the sender
 * down instead of filling memory.
 */
export class SnapshotInbox implements AsyncIterable<Uint8Array> {
  private readonly chunks: Uint8Array[] = [];
  private bufferedBytes = 0;
  private ended = false;
  private failure: Error | undefined;
  private paused = false;
  private iterated = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly highWaterBytes: number,
    private readonly pause: () => void,
    private readonly resume: () => void,
  ) {}

  push(chunk: Uint8Array): void {
    if (this.ended || this.failure !== undefined) return;
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.byteLength;
    if (!this.paused && this.bufferedBytes >= this.highWaterBytes) {
      this.paused = true;
      this.pause();
    }
    this.notify();
  }

  /** The sender finished. */
  end(): void {
    this.ended = true;
    this.notify();
  }

  /** The stream broke off; the reader sees `error` after the chunks already received. */
  fail(error: Error): void {
    if (this.ended) return;
    this.failure = error;
    this.notify();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    if (this.iterated) throw new Error('a snapshot stream can be read only once');
    this.iterated = true;
    for (;;) {
      const chunk = this.chunks.shift();
      if (chunk !== undefined) {
        this.bufferedBytes -= chunk.byteLength;
        if (this.paused && this.bufferedBytes <= this.highWaterBytes / 2) {
          this.paused = false;
          this.resume();
        }
        yield chunk;
        continue;
      }
      if (this.ended) return;
      if (this.failure !== undefined) throw this.failure;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
