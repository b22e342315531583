import { DEFAULT_MAX_FRAME_SIZE, ErrorCode, FRAME_HEADER_LENGTH, Http2ConnectionError, readFrameHeader, type FrameHeader } from './http2-frame.js';

const EMPTY = Buffer.alloc(0);

export interface FrameSink {
  /** A frame the reader was asked to keep whole; `offset` is where it began in the byte stream. */
  frame(header: FrameHeader, payload: Buffer, offset: number): void;
  /** Bytes of every other frame (and of the leading bytes), in stream order, as they arrive. */
  passthrough(bytes: Buffer): void;
}

/**
 * Where the reader stands: between frames; inside a frame it passes through; or holding bytes it
 * cannot hand on yet (a frame header cut short, or a frame it keeps whole).
 */
export type ReaderState = 'boundary' | 'passing' | 'holding';

interface KeptFrame {
  readonly header: FrameHeader;
  readonly offset: number;
  readonly parts: Buffer[];
  remaining: number;
}

/**
 * Cuts an HTTP/2 byte stream into frames as it arrives. Only the frames `keepWhole` picks are
 * buffered and delivered whole; the bytes of the others go on at once, in runs, so a large DATA
 * frame is never held back or copied.
 */
export class FrameReader {
  private leading: number;
  private offset = 0;
  private partialHeader: Buffer = EMPTY;
  private kept: KeptFrame | undefined;
  private passing = 0;
  private readonly maxKeptLength: number;

  constructor(
    private readonly keepWhole: (header: FrameHeader) => boolean,
    private readonly sink: FrameSink,
    options: { readonly leadingBytes?: number; readonly maxKeptLength?: number } = {},
  ) {
    this.leading = options.leadingBytes ?? 0;
    this.maxKeptLength = options.maxKeptLength ?? DEFAULT_MAX_FRAME_SIZE;
  }

  /** Bytes read so far. */
  get position(): number {
    return this.offset;
  }

  get state(): ReaderState {
    if (this.kept !== undefined || this.partialHeader.length > 0) return 'holding';
    return this.passing > 0 ? 'passing' : 'boundary';
  }

  /** Throws Http2ConnectionError when a frame to keep is larger than the peer may send. */
  push(chunk: Buffer): void {
    const base = this.offset;
    let at = 0;
    let runStart = 0;
    const flushRun = (end: number): void => {
      if (end > runStart) this.sink.passthrough(chunk.subarray(runStart, end));
      runStart = end;
    };
    if (this.leading > 0) {
      at = Math.min(this.leading, chunk.length);
      this.leading -= at;
    }
    while (at < chunk.length) {
      if (this.passing > 0) {
        const n = Math.min(this.passing, chunk.length - at);
        this.passing -= n;
        at += n;
        continue;
      }
      if (this.kept !== undefined) {
        at = this.fillKept(this.kept, chunk, at);
        runStart = at;
        continue;
      }
      const need = FRAME_HEADER_LENGTH - this.partialHeader.length;
      if (chunk.length - at < need) {
        flushRun(at);
        this.partialHeader = Buffer.concat([this.partialHeader, chunk.subarray(at)]);
        // Held back until its type is known.
        runStart = chunk.length;
        break;
      }
      const earlier = this.partialHeader;
      const headerBytes = earlier.length === 0 ? chunk.subarray(at, at + need) : Buffer.concat([earlier, chunk.subarray(at, at + need)]);
      this.partialHeader = EMPTY;
      const header = readFrameHeader(headerBytes);
      const frameOffset = base + at - earlier.length;
      if (this.keepWhole(header)) {
        if (header.length > this.maxKeptLength) {
          throw new Http2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, `frame of type ${header.type} is ${header.length} bytes, more than ${this.maxKeptLength}`);
        }
        flushRun(at);
        at += need;
        runStart = at;
        this.kept = { header, offset: frameOffset, parts: [], remaining: header.length };
        if (header.length === 0) this.deliver(this.kept);
      } else {
        // The part of the header read with the previous chunk was held back: it goes first.
        if (earlier.length > 0) this.sink.passthrough(earlier);
        at += need;
        this.passing = header.length;
      }
    }
    flushRun(chunk.length);
    this.offset = base + chunk.length;
  }

  private fillKept(kept: KeptFrame, chunk: Buffer, at: number): number {
    const n = Math.min(kept.remaining, chunk.length - at);
    kept.parts.push(chunk.subarray(at, at + n));
    kept.remaining -= n;
    if (kept.remaining === 0) this.deliver(kept);
    return at + n;
  }

  private deliver(kept: KeptFrame): void {
    this.kept = undefined;
    const payload = kept.parts.length === 1 ? kept.parts[0]! : Buffer.concat(kept.parts);
    this.sink.frame(kept.header, payload, kept.offset);
  }
}
