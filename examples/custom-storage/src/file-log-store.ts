import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { LogStore } from '../../src/ports/log-store.js';
import { CorruptStorageError, decodeEntryRecord, encodeEntryRecord, openRecord, sealRecord } from '../../src/raft/stored-records.js';
import type { Entry } from '../../src/raft/types.js';
import { createFile, fsyncDirectory } from './file-durability.js';

/** Planted bugs, each of which one of the kit's disk checks must catch. */
export type FileLogStoreBug =
  /** append resolves at once; the write and fsync happen later (the SIGKILL check catches it). */
  | 'ack-before-write'
  /** append resolves after write(2) returned, before fdatasync (only the strace check sees it). */
  | 'ack-before-sync'
  /** a frame that fails its checksum is taken for a torn tail and cut off with all after it (the corruption check catches it). */
  | 'cut-at-bad-frame';

const enum FrameKind {
  /** Entries from `from` on, replacing whatever was there. */
  Append = 1,
  /** Drop entries >= index. */
  Truncate = 2,
  /** Drop entries <= index, remembering its term. */
  Compact = 3,
}

/** u32 body length | u32 CRC-32 of those 4 bytes: a flipped length is refused, not read as a torn tail. */
const HEADER_BYTES = 8;

function frame(body: Uint8Array): Uint8Array {
  const sealed = sealRecord(body);
  const out = new Uint8Array(HEADER_BYTES + sealed.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, sealed.byteLength);
  view.setUint32(4, crc32(out.subarray(0, 4)));
  out.set(sealed, HEADER_BYTES);
  return out;
}

function appendBody(entries: readonly Entry[]): Uint8Array {
  const records = entries.map(encodeEntryRecord);
  const out = new Uint8Array(1 + 8 + records.reduce((n, r) => n + 4 + r.byteLength, 0));
  const view = new DataView(out.buffer);
  view.setUint8(0, FrameKind.Append);
  view.setFloat64(1, entries[0]!.index);
  let at = 9;
  for (const r of records) {
    view.setUint32(at, r.byteLength);
    out.set(r, at + 4);
    at += 4 + r.byteLength;
  }
  return out;
}

function markerBody(kind: FrameKind, index: number, term = 0): Uint8Array {
  const out = new Uint8Array(17);
  const view = new DataView(out.buffer);
  view.setUint8(0, kind);
  view.setFloat64(1, index);
  view.setFloat64(9, term);
  return out;
}

/**
 * A test-only LogStore: one append-only file of checksummed frames, one write and one fdatasync
 * per operation, everything also held in memory. Opening replays the frames; a torn last frame
 * (the file ends inside it) is cut off, any other damage is a CorruptStorageError naming the file.
 */
export class FileLogStore implements LogStore {
  readonly path: string;
  private handle: FileHandle | undefined;
  private size = 0;
  private offset = 0;
  private offsetTerm = 0;
  private log: Entry[] = [];
  /** Operations run one after another, in call order. */
  private queue: Promise<void> = Promise.resolve();

  constructor(directory: string, private readonly bug?: FileLogStoreBug) {
    this.path = join(directory, 'log.dat');
  }

  async open(): Promise<void> {
    const created = await createFile(this.path);
    if (created) await fsyncDirectory(this.path);
    this.handle = await open(this.path, 'r+');
    const bytes = await this.handle.readFile();
    let at = 0;
    while (at < bytes.byteLength) {
      if (bytes.byteLength - at < HEADER_BYTES) break;
      const view = new DataView(bytes.buffer, bytes.byteOffset + at, HEADER_BYTES);
      const length = view.getUint32(0);
      if (crc32(bytes.subarray(at, at + 4)) !== view.getUint32(4)) {
        if (this.bug === 'cut-at-bad-frame') break;
        throw new CorruptStorageError(this.path, `frame header at byte ${at}: checksum mismatch`);
      }
      if (at + HEADER_BYTES + length > bytes.byteLength) break;
      let body: Uint8Array;
      try {
        body = openRecord(bytes.subarray(at + HEADER_BYTES, at + HEADER_BYTES + length), this.path, `frame at byte ${at}`);
      } catch (err) {
        if (this.bug === 'cut-at-bad-frame') break;
        throw err;
      }
      this.replay(body, at);
      at += HEADER_BYTES + length;
    }
    if (at < bytes.byteLength) {
      // The last frame is torn: it was never acknowledged (its fdatasync had not returned).
      await this.handle.truncate(at);
      await this.handle.datasync();
    }
    this.size = at;
  }

  private replay(body: Uint8Array, at: number): void {
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const kind = view.getUint8(0);
    const index = view.getFloat64(1);
    if (kind === FrameKind.Append) {
      if (index <= this.offset || index > this.lastIndex() + 1) throw new CorruptStorageError(this.path, `frame at byte ${at} appends at ${index} outside [${this.firstIndex()}, ${this.lastIndex() + 1}]`);
      this.log.length = index - this.offset - 1;
      for (let p = 9; p < body.byteLength;) {
        const length = view.getUint32(p);
        this.log.push(decodeEntryRecord(body.subarray(p + 4, p + 4 + length), this.path, this.lastIndex() + 1));
        p += 4 + length;
      }
    } else if (kind === FrameKind.Truncate) {
      this.applyTruncate(index);
    } else if (kind === FrameKind.Compact) {
      this.applyCompact(index, view.getFloat64(9));
    } else {
      throw new CorruptStorageError(this.path, `frame at byte ${at} of unknown kind ${kind}`);
    }
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await this.queue;
    await handle?.close();
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
    if (lo < this.firstIndex() || hi > this.lastIndex() + 1 || lo > hi) throw new RangeError(`entries [${lo}, ${hi}) outside the log [${this.firstIndex()}, ${this.lastIndex() + 1})`);
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
    return this.persist(frame(appendBody(copies)));
  }

  truncateFrom(index: number): Promise<void> {
    if (index <= this.offset) return Promise.reject(new RangeError(`truncate from ${index} reaches below first index ${this.firstIndex()}`));
    if (index > this.lastIndex()) return this.queue;
    this.applyTruncate(index);
    return this.persist(frame(markerBody(FrameKind.Truncate, index)));
  }

  compactTo(index: number, term: number): Promise<void> {
    if (index <= this.offset) return this.queue;
    this.applyCompact(index, term);
    return this.persist(frame(markerBody(FrameKind.Compact, index, term)));
  }

  private applyTruncate(index: number): void {
    if (index <= this.lastIndex()) this.log.length = Math.max(0, index - this.offset - 1);
  }

  private applyCompact(index: number, term: number): void {
    this.log = index >= this.lastIndex() ? [] : this.log.slice(index - this.offset);
    this.offset = index;
    this.offsetTerm = term;
  }

  /** Writes `bytes` at the end of the file and syncs; resolves when durable (unless a bug is planted). */
  private persist(bytes: Uint8Array): Promise<void> {
    const handle = this.handle;
    if (handle === undefined) return Promise.reject(new Error(`${this.path}: the log store is not open`));
    const position = this.size;
    this.size += bytes.byteLength;
    let written!: () => void;
    const writtenOnly = new Promise<void>((resolve) => { written = resolve; });
    const durable = this.queue.then(async () => {
      await handle.write(bytes, 0, bytes.byteLength, position);
      written();
      await handle.datasync();
    });
    this.queue = durable.catch(() => undefined);
    if (this.bug === undefined) return durable;
    durable.catch(() => undefined);
    return this.bug === 'ack-before-write' ? Promise.resolve() : writtenOnly;
  }
}
