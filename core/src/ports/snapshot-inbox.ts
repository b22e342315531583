interface PendingChunk {
  readonly bytes: Uint8Array;
  readonly onTaken: (() => void) | undefined;
}

/**
 * The receiving end of a snapshot stream, for a Transport to hand to `TransportHandler.onSnapshot`
 * as its `data`: the transport pushes chunks as they arrive, then `end()` or `fail()`; the handler
 * reads them once, in order. A chunk's `onTaken` runs when the reader takes it: that is where a
 * transport applies back pressure (resume a paused socket, acknowledge to a windowed sender), so the
 * sender never runs further ahead than the store reads — the port's "snapshots are streamed" rule.
 */
export class SnapshotInbox implements AsyncIterable<Uint8Array> {
  // Back pressure keeps this short (a window of chunks), so shift() stays cheap.
  private readonly chunks: PendingChunk[] = [];
  private waitingBytes = 0;
  private ended = false;
  private failure: Error | undefined;
  private iterated = false;
  private wake: (() => void) | undefined;

  /** Chunks received and not yet taken by the reader. */
  get buffered(): number {
    return this.chunks.length;
  }

  /** Bytes of those chunks. */
  get bufferedBytes(): number {
    return this.waitingBytes;
  }

  /** Ignored once the stream ended or failed (late bytes of a settled stream). */
  push(bytes: Uint8Array, onTaken?: () => void): void {
    if (this.ended || this.failure !== undefined) return;
    this.chunks.push({ bytes, onTaken });
    this.waitingBytes += bytes.byteLength;
    this.notify();
  }

  /** The sender finished: the reader ends after the chunks already received. The first of end and fail counts. */
  end(): void {
    if (this.ended || this.failure !== undefined) return;
    this.ended = true;
    this.notify();
  }

  /** The stream broke off: the reader sees `error` after the chunks already received. The first of end and fail counts. */
  fail(error: Error): void {
    if (this.ended || this.failure !== undefined) return;
    this.failure = error;
    this.notify();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    if (this.iterated) throw new Error('a snapshot stream can be read only once');
    this.iterated = true;
    for (;;) {
      const chunk = this.take();
      if (chunk !== undefined) {
        chunk.onTaken?.();
        yield chunk.bytes;
        continue;
      }
      if (this.ended) return;
      if (this.failure !== undefined) throw this.failure;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private take(): PendingChunk | undefined {
    const chunk = this.chunks.shift();
    if (chunk !== undefined) this.waitingBytes -= chunk.bytes.byteLength;
    return chunk;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
