import { open, type FileHandle } from 'node:fs/promises';

/** Bytes read at once when a read falls outside the current window; pages of one tree tend to sit side by side. */
const DEFAULT_WINDOW_BYTES = 256 * 1024;

/**
 * Positioned reads of a file that may be far larger than memory, through one read-ahead window.
 * Every window is a fresh buffer, so slices handed out stay valid after the window moves on.
 */
export class ReadAheadFile {
  private window: Buffer = Buffer.alloc(0);
  private windowStart = 0;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    /** Bytes of the file this reader may see (a trailer past it is not part of the data). */
    readonly limit: number,
    private readonly windowBytes: number,
  ) {}

  /** Opens `path` read-only; `limit` defaults to the file's size. */
  static async open(path: string, options: { limit?: number; windowBytes?: number } = {}): Promise<ReadAheadFile> {
    const handle = await open(path, 'r');
    try {
      const size = (await handle.stat()).size;
      const limit = Math.min(options.limit ?? size, size);
      return new ReadAheadFile(path, handle, limit, options.windowBytes ?? DEFAULT_WINDOW_BYTES);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** Exactly `length` bytes at `offset`; throws a RangeError past the limit. */
  async read(offset: number, length: number): Promise<Buffer> {
    if (offset < 0 || length < 0 || offset + length > this.limit) {
      throw new RangeError(`read of ${length} bytes at ${offset} is past the end (${this.limit} bytes)`);
    }
    const end = offset + length;
    if (offset >= this.windowStart && end <= this.windowStart + this.window.length) {
      return this.window.subarray(offset - this.windowStart, end - this.windowStart);
    }
    if (length > this.windowBytes) return this.readExactly(offset, length);
    this.window = await this.readExactly(offset, Math.min(this.windowBytes, this.limit - offset));
    this.windowStart = offset;
    return this.window.subarray(0, length);
  }

  private async readExactly(offset: number, length: number): Promise<Buffer> {
    const buffer = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(buffer, done, length - done, offset + done);
      // The file shrank under us: nothing more to read here.
      if (bytesRead === 0) throw new RangeError(`file ended after ${offset + done} bytes, ${length - done} bytes short`);
      done += bytesRead;
    }
    return buffer;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
