import { open, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { inject, injectable, optional } from 'inversify';
import { CorruptStorageError, type Entry, type LogStore } from '@cairn/core';
import { createFile, ensureDirectory, fsyncDirectory, removeIfPresent, writeFully } from './file-durability.js';
import { appendFrame, appendFrameBytes, compactFrame, scanFrames, truncateFrame, type LogFrame } from './log-frame.js';
import { FILE_LOG_STORE_OPTIONS, FILE_STORAGE_DIRECTORY } from './tokens.js';

export interface FileLogStoreOptions {
  /**
   * Rewrite the file once a compaction leaves less than half of it live, if it has at least this
   * many bytes (default 1 MiB): smaller files are cheaper to keep than to copy.
   */
  readonly rewriteMinBytes?: number;
}

/** The log as a compaction leaves it: what a rewrite puts in the new file. */
interface LiveLog {
  readonly offset: number;
  readonly offsetTerm: number;
  readonly entries: readonly Entry[];
}

/** Entry data per append frame of a rewritten file: bounds each write and each frame's buffer. */
const REWRITE_FRAME_DATA_BYTES = 1 << 20;

/**
 * The Raft log in one append-only file, `log.dat`, of checksummed frames (see log-frame.ts): each
 * operation is one write at the end of the file and one fdatasync, and resolves after both. The
 * whole log is also held in memory; opening replays the frames. A torn last frame (the file ends
 * inside it: its fdatasync never returned) is cut off; any other damage is a CorruptStorageError
 * naming the file.
 *
 * Truncations and compactions are marker frames, so the file only grows, until a compaction
 * leaves most of it dead: then the live log is written to `log.dat.rewrite`, fdatasynced, renamed
 * over `log.dat`, and the directory fsynced, and only then does that compaction resolve. A crash
 * before the rename leaves the old file whole (the leftover is removed at open); after it, the new
 * file holds the same log.
 */
@injectable()
export class FileLogStore implements LogStore {
  readonly path: string;
  private readonly rewritePath: string;
  private readonly rewriteMinBytes: number;
  private handle: FileHandle | undefined;
  /** Bytes in the file; advanced in the queue, by each write that completed. */
  private size = 0;
  private offset = 0;
  private offsetTerm = 0;
  private log: Entry[] = [];
  /** Writes run one after another, in call order; memory is updated at call time. */
  private queue: Promise<void> = Promise.resolve();
  /** The first failed write or sync: the file's state is unknown after it, so every later operation fails with it. */
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    @inject(FILE_STORAGE_DIRECTORY) private readonly directory: string,
    @inject(FILE_LOG_STORE_OPTIONS) @optional() options: FileLogStoreOptions = {},
  ) {
    this.path = join(directory, 'log.dat');
    this.rewritePath = `${this.path}.rewrite`;
    this.rewriteMinBytes = options.rewriteMinBytes ?? 1 << 20;
  }

  async open(): Promise<void> {
    // Everything comes from the file: a store closed and opened again starts over from it.
    this.closing = undefined;
    this.failure = undefined;
    this.offset = 0;
    this.offsetTerm = 0;
    this.log = [];
    await ensureDirectory(this.directory);
    // A rewrite that never reached its rename: the file it was to replace is still whole.
    if (await removeIfPresent(this.rewritePath)) await fsyncDirectory(this.rewritePath);
    if (await createFile(this.path)) await fsyncDirectory(this.path);
    const handle = await open(this.path, 'r+');
    try {
      const bytes = await handle.readFile();
      let end = 0;
      for (const scanned of scanFrames(bytes, this.path)) {
        if (scanned.kind === 'damaged') {
          this.damagedFrame(scanned.error);
        } else if (scanned.kind === 'frame') {
          this.replay(scanned.frame, scanned.at);
          end = scanned.at + scanned.bytes;
        }
      }
      if (end < bytes.byteLength) {
        // The last frame is torn: it was never acknowledged (its fdatasync had not returned).
        await handle.truncate(end);
        await handle.datasync();
      }
      this.size = end;
    } catch (err) {
      await handle.close();
      throw err;
    }
    this.handle = handle;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.queue;
      const handle = this.handle;
      this.handle = undefined;
      await handle?.close();
    })();
    return this.closing;
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  lastIndex(): number {
    return this.offset + this.log.length;
  }

  async term(index: number): Promise<number | undefined> {
    if (index === this.offset) return this.offsetTerm;
    if (index < this.offset || index > this.lastIndex()) return undefined;
    return this.log[index - this.offset - 1]!.term;
  }

  async entries(lo: number, hi: number, maxBytes = Infinity): Promise<Entry[]> {
    if (lo < this.firstIndex() || hi > this.lastIndex() + 1 || lo > hi)
      throw new RangeError(`entries [${lo}, ${hi}) outside the log [${this.firstIndex()}, ${this.lastIndex() + 1})`);
    const out: Entry[] = [];
    let size = 0;
    for (let i = lo; i < hi; i++) {
      const e = this.log[i - this.offset - 1]!;
      size += e.data.byteLength;
      if (out.length > 0 && size > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  append(entries: readonly Entry[]): Promise<void> {
    if (entries.length === 0) return this.queue;
    const first = entries[0]!.index;
    if (first > this.lastIndex() + 1) return Promise.reject(new RangeError(`append at ${first} would leave a gap after ${this.lastIndex()}`));
    if (first <= this.offset) return Promise.reject(new RangeError(`append at ${first} reaches below first index ${this.firstIndex()}`));
    const copies = entries.map((e) => ({ index: e.index, term: e.term, type: e.type, data: e.data.slice() }));
    this.log.length = first - this.offset - 1;
    this.log.push(...copies);
    const bytes = appendFrame(copies);
    return this.operation((handle, written) => this.appendToFile(handle, bytes, written));
  }

  truncateFrom(index: number): Promise<void> {
    if (index <= this.offset) return Promise.reject(new RangeError(`truncate from ${index} reaches below first index ${this.firstIndex()}`));
    if (index > this.lastIndex()) return this.queue;
    this.applyTruncate(index);
    const bytes = truncateFrame(index);
    return this.operation((handle, written) => this.appendToFile(handle, bytes, written));
  }

  compactTo(index: number, term: number): Promise<void> {
    if (index <= this.offset) return this.queue;
    this.applyCompact(index, term);
    const live: LiveLog = { offset: this.offset, offsetTerm: this.offsetTerm, entries: this.log.slice() };
    return this.operation(async (handle, written) => {
      // Decided in the queue, where the file's size is exact; `live` is the log as this call left it.
      const marker = compactFrame(live.offset, live.offsetTerm);
      const liveBytes = marker.byteLength + (live.entries.length === 0 ? 0 : appendFrameBytes(live.entries));
      if (this.size >= this.rewriteMinBytes && 2 * liveBytes < this.size + marker.byteLength) await this.rewrite(handle, live, written);
      else await this.appendToFile(handle, marker, written);
    });
  }

  /**
   * When an operation is acknowledged: given `written` (its bytes are in the file: write(2)
   * returned) and `durable` (its fdatasync, or its rewrite's directory fsync, returned), the promise
   * the caller gets. A correct store returns `durable`. This is the seam the example's tests use to
   * plant bugs (acknowledge at once, or once written); nothing else overrides it.
   */
  protected acknowledge(_written: Promise<void>, durable: Promise<void>): Promise<void> {
    return durable;
  }

  /**
   * What open does with a frame that is complete but fails its checksum: refuse the file. A
   * subclass that returns instead drops that frame and every one after it as if they were a torn
   * tail, which loses acknowledged entries (the example's planted corruption bug).
   */
  protected damagedFrame(error: CorruptStorageError): void {
    throw error;
  }

  private replay(frame: LogFrame, at: number): void {
    if (frame.kind === 'append') {
      if (frame.from <= this.offset || frame.from > this.lastIndex() + 1) {
        throw new CorruptStorageError(this.path, `frame at byte ${at} appends at ${frame.from} outside [${this.firstIndex()}, ${this.lastIndex() + 1}]`);
      }
      this.log.length = frame.from - this.offset - 1;
      this.log.push(...frame.entries);
    } else if (frame.kind === 'truncate') {
      this.applyTruncate(frame.index);
    } else {
      this.applyCompact(frame.index, frame.term);
    }
  }

  private applyTruncate(index: number): void {
    if (index <= this.lastIndex()) this.log.length = Math.max(0, index - this.offset - 1);
  }

  private applyCompact(index: number, term: number): void {
    this.log = index >= this.lastIndex() ? [] : this.log.slice(index - this.offset);
    this.offset = index;
    this.offsetTerm = term;
  }

  /** Queues `work` on the open file; resolves as `acknowledge` decides. */
  private operation(work: (handle: FileHandle, written: () => void) => Promise<void>): Promise<void> {
    if (this.closing !== undefined || this.handle === undefined) return Promise.reject(new Error(`${this.path}: the log store is not open`));
    let markWritten!: () => void;
    let failWritten!: (err: unknown) => void;
    const written = new Promise<void>((resolve, reject) => {
      markWritten = resolve;
      failWritten = reject;
    });
    const durable = this.queue.then(async () => {
      if (this.failure !== undefined) throw this.failure;
      try {
        await work(this.handle!, markWritten);
      } catch (err) {
        this.failure = err as Error;
        throw err;
      }
    });
    durable.catch(failWritten);
    written.catch(() => undefined);
    this.queue = durable.catch(() => undefined);
    return this.acknowledge(written, durable);
  }

  /** One write at the end of the file, then fdatasync. */
  private async appendToFile(handle: FileHandle, bytes: Uint8Array, written: () => void): Promise<void> {
    this.size += await writeFully(handle, bytes, this.size);
    written();
    await handle.datasync();
  }

  /** The live log into a new file that replaces the old one; the old handle is closed once the new file is in place and durable. */
  private async rewrite(old: FileHandle, live: LiveLog, written: () => void): Promise<void> {
    const handle = await open(this.rewritePath, 'w');
    let size = 0;
    try {
      size += await writeFully(handle, compactFrame(live.offset, live.offsetTerm), size);
      for (let from = 0; from < live.entries.length;) {
        let to = from + 1;
        for (
          let data = live.entries[from]!.data.byteLength;
          to < live.entries.length && data + live.entries[to]!.data.byteLength <= REWRITE_FRAME_DATA_BYTES;
          to++
        ) {
          data += live.entries[to]!.data.byteLength;
        }
        size += await writeFully(handle, appendFrame(live.entries.slice(from, to)), size);
        from = to;
      }
      await handle.datasync();
      written();
      await rename(this.rewritePath, this.path);
      await fsyncDirectory(this.path);
    } catch (err) {
      await handle.close();
      throw err;
    }
    this.handle = handle;
    this.size = size;
    await old.close();
  }
}
