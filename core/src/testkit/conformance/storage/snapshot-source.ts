import { createHash } from 'node:crypto';
import { pseudoRandomBytes } from './sample-entries.js';

export interface SnapshotSourceOptions {
  /** Bytes per chunk (default 1 MiB); the last chunk may be shorter. */
  readonly chunkBytes?: number;
  /** Throw after this many bytes were handed out, as a failing sender or disk does. */
  readonly failAfterBytes?: number;
  /** Called after every chunk was handed out (a memory probe samples here). */
  readonly onChunk?: (generatedBytes: number) => void;
}

/** Snapshot data that exists one chunk at a time, fixed by a seed, with its sha256 and size. */
export class SnapshotSource {
  private readonly hash = createHash('sha256');
  private digested: string | undefined;
  generated = 0;

  constructor(
    readonly totalBytes: number,
    readonly seed: number,
    private readonly options: SnapshotSourceOptions = {},
  ) {}

  async *stream(): AsyncGenerator<Uint8Array> {
    const chunkBytes = this.options.chunkBytes ?? 1 << 20;
    for (let n = 0; this.generated < this.totalBytes; n++) {
      if (this.options.failAfterBytes !== undefined && this.generated >= this.options.failAfterBytes) {
        throw new Error(`snapshot source failed after ${this.generated} bytes`);
      }
      const chunk = pseudoRandomBytes(Math.min(chunkBytes, this.totalBytes - this.generated), this.seed * 65_537 + n);
      this.hash.update(chunk);
      this.generated += chunk.byteLength;
      yield chunk;
      this.options.onChunk?.(this.generated);
    }
  }

  /** sha256 of the data (call after the stream ended). */
  digest(): string {
    this.digested ??= this.hash.digest('hex');
    return this.digested;
  }
}

/** What reading a stored snapshot gave. */
export interface ReadBack {
  readonly bytes: number;
  readonly chunks: number;
  readonly largestChunk: number;
  readonly sha256: string;
}

/** Reads `data` to the end; `onChunk` sees the running byte count. */
export async function readBack(data: AsyncIterable<Uint8Array>, onChunk?: (bytesSoFar: number) => void): Promise<ReadBack> {
  const hash = createHash('sha256');
  let bytes = 0;
  let chunks = 0;
  let largestChunk = 0;
  for await (const chunk of data) {
    hash.update(chunk);
    bytes += chunk.byteLength;
    chunks++;
    largestChunk = Math.max(largestChunk, chunk.byteLength);
    onChunk?.(bytes);
  }
  return { bytes, chunks, largestChunk, sha256: hash.digest('hex') };
}
