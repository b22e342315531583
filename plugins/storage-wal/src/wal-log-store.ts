import { closeSync, fdatasyncSync, ftruncateSync, openSync, readdirSync, readFileSync, readSync, rmSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { inject, injectable } from 'inversify';
import { CorruptStorageError, decodeEntryRecord, type Entry, type LogStore } from '@cairn/core';
import { EntryLocations, type EntryLocation } from './entry-locations.js';
import { appendFrame, compactFrame, headFrame, readFrame, truncateFrame, type WalFrame } from './wal-frame.js';
import {
  createSegment,
  ensureDirectory,
  fdatasyncAsync,
  fsyncDirectory,
  segmentName,
  segmentSequence,
  SEGMENT_IN_PROGRESS,
  writeFully,
  writeFullySync,
} from './wal-files.js';
import { WAL_DIRECTORY, WAL_OPTIONS } from './tokens.js';

export interface WalLogStoreOptions {
  /** A segment is closed and a new one begun when a write would take it past this size. */
  readonly segmentBytes: number;
  /**
   * Appends of at most this many entries, made while no other write is in flight, are written and
   * fdatasynced on the calling thread: one lone proposal then costs one sync and no thread
   * hand-off. Larger appends (a loaded member) go through libuv's thread pool, so the event loop
   * keeps serving while the disk syncs. 0: always the thread pool.
   */
  readonly inlineSyncEntries: number;
  /** Data bytes of the newest entries kept in memory for reads. */
  readonly cacheBytes: number;
}

/** One write to make durable, in order: its bytes at a position of a segment, maybe in a new one. */
interface WalWrite {
  readonly segment: number;
  readonly position: number;
  readonly bytes: Uint8Array;
  /** The segment to create first (its head), when this write begins one. */
  readonly roll?: Uint8Array;
  /** Segments to delete once the write is durable (a compaction left nothing in them). */
  readonly doomed?: readonly number[];
}

const UNKNOWN_TERM = -1;
const HEAD_BYTES = headFrame(0, 0, 0).byteLength;

/**
 * The Raft log as a write-ahead log: segment files `<16 hex digits>.wal` in one directory, each a
 * head (its sequence and the compaction point when it began) and then frames — append, truncate,
 * compact — each appended at the end, checksummed, and made durable by one fdatasync before the
 * call resolves. What the log holds is replayed from the frames at open; the index of every entry's
 * position and the newest entries stay in memory. A compaction deletes the segments it emptied.
 *
 * Opening refuses damage with a CorruptStorageError naming the file: a frame failing its checksum,
 * a segment missing from the sequence, entries that do not follow on. The one thing it repairs is
 * the end of the last segment: a frame the file ends inside was a write whose fdatasync never
 * returned, so nothing acknowledged is in it; it is cut off.
 */
@injectable()
export class WalLogStore implements LogStore {
  readonly directory: string;
  private readonly log: EntryLocations;
  private fds = new Map<number, number>();
  /** Highest entry index each segment ever received (a truncation may leave it high: that only delays deletion). */
  private segmentMax = new Map<number, number>();
  /** Sequence and size of the segment being written, as the writes issued so far leave it. */
  private current = 0;
  private size = 0;
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;
  /** Writes are numbered as issued; all up to `completed` are in the files. */
  private issued = 0;
  private completed = 0;
  /** After a failed write the files' state is unknown: every later operation fails with it. */
  private failure: Error | undefined;
  private opened = false;

  constructor(
    @inject(WAL_DIRECTORY) directory: string,
    @inject(WAL_OPTIONS) private readonly options: WalLogStoreOptions,
  ) {
    this.directory = resolve(directory);
    this.log = new EntryLocations(options.cacheBytes);
  }

  async open(): Promise<void> {
    if (this.opened) return;
    ensureDirectory(this.directory);
    this.failure = undefined;
    this.fds = new Map();
    this.segmentMax = new Map();
    this.log.reset(0, 0);
    try {
      this.load();
    } catch (err) {
      this.closeFiles();
      throw err;
    }
    this.opened = true;
  }

  async close(): Promise<void> {
    if (!this.opened) return;
    this.opened = false;
    await this.queue;
    this.closeFiles();
  }

  firstIndex(): number {
    return this.log.offset + 1;
  }

  lastIndex(): number {
    return this.log.last;
  }

  async term(index: number): Promise<number | undefined> {
    return this.log.term(index);
  }

  async entries(lo: number, hi: number, maxBytes = Infinity): Promise<Entry[]> {
    for (;;) {
      this.checkSlice(lo, hi);
      const out = this.collect(lo, hi, maxBytes);
      if (out !== undefined) return out;
      // An entry to read from the files is not in them yet: wait for the writes in flight, look again.
      await this.queue;
      this.refuseIfFailed();
    }
  }

  append(entries: readonly Entry[]): Promise<void> {
    const refused = this.refusal();
    if (refused !== undefined) return refused;
    if (entries.length === 0) return this.settled();
    const first = entries[0]!.index;
    if (first > this.log.last + 1) return Promise.reject(new RangeError(`append at ${first} would leave a gap after last index ${this.log.last}`));
    if (first <= this.log.offset) return Promise.reject(new RangeError(`append at ${first} reaches below first index ${this.log.offset + 1}`));
    for (let i = 0; i < entries.length; i++) {
      if (entries[i]!.index !== first + i) return Promise.reject(new RangeError(`append batch is not contiguous at position ${i}`));
    }
    const { bytes, recordOffsets, recordLengths } = appendFrame(entries);
    const place = this.place(bytes.byteLength);
    const write = ++this.issued;
    this.log.truncateFrom(first);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const position = place.position + recordOffsets[i]!;
      // The cached copy's data points into the frame: the caller may reuse its own buffers.
      const data = bytes.subarray(recordOffsets[i]! + 21, recordOffsets[i]! + recordLengths[i]!);
      this.log.push(
        e.index,
        { term: e.term, segment: place.segment, position, length: recordLengths[i]!, write },
        { index: e.index, term: e.term, type: e.type, data },
      );
    }
    const end = first + entries.length - 1;
    this.segmentMax.set(place.segment, Math.max(this.segmentMax.get(place.segment) ?? 0, end));
    return this.submit(write, { ...place, bytes }, entries.length <= this.options.inlineSyncEntries);
  }

  truncateFrom(index: number): Promise<void> {
    const refused = this.refusal();
    if (refused !== undefined) return refused;
    if (index <= this.log.offset) return Promise.reject(new RangeError(`truncate from ${index} reaches below first index ${this.log.offset + 1}`));
    if (index > this.log.last) return this.settled();
    const bytes = truncateFrame(index);
    const place = this.place(bytes.byteLength);
    this.log.truncateFrom(index);
    return this.submit(++this.issued, { ...place, bytes }, true);
  }

  compactTo(index: number, term: number): Promise<void> {
    const refused = this.refusal();
    if (refused !== undefined) return refused;
    if (index <= this.log.offset) return this.settled();
    const bytes = compactFrame(index, term);
    const place = this.place(bytes.byteLength);
    this.log.compactTo(index, term);
    // Whole segments before the one written, oldest first, that hold nothing after `index`.
    const doomed: number[] = [];
    for (const [sequence, max] of [...this.segmentMax].sort((a, b) => a[0] - b[0])) {
      if (sequence >= place.segment || max > index) break;
      doomed.push(sequence);
    }
    // Forgotten now, so a compaction issued before this one's write runs does not doom them again.
    for (const sequence of doomed) this.segmentMax.delete(sequence);
    return this.submit(++this.issued, { ...place, bytes, doomed }, true);
  }

  /** Where a write of `length` bytes goes: the end of the current segment, or a new one past `segmentBytes`. */
  private place(length: number): { segment: number; position: number; roll?: Uint8Array } {
    let roll: Uint8Array | undefined;
    // A write larger than a segment still goes into a fresh one, never rolls again.
    if (this.size + length > this.options.segmentBytes && this.size > HEAD_BYTES) {
      this.current++;
      roll = headFrame(this.current, this.log.offset, this.log.offsetTerm);
      this.size = roll.byteLength;
      this.segmentMax.set(this.current, 0);
    }
    const position = this.size;
    this.size += length;
    return { segment: this.current, position, roll };
  }

  /** Make `write` durable after every earlier one: at once on this thread when `inline` and nothing is in flight. */
  private submit(number: number, write: WalWrite, inline: boolean): Promise<void> {
    if (inline && this.pending === 0) {
      try {
        this.perform(write);
        this.completed = number;
        return Promise.resolve();
      } catch (err) {
        return Promise.reject(this.fail(err));
      }
    }
    this.pending++;
    const done = this.queue.then(async () => {
      this.refuseIfFailed();
      try {
        await this.performAsync(write);
        this.completed = number;
      } catch (err) {
        throw this.fail(err);
      } finally {
        this.pending--;
      }
    });
    this.queue = done.catch(() => undefined);
    return done;
  }

  private perform(write: WalWrite): void {
    const fd = this.descriptorFor(write);
    writeFullySync(fd, write.bytes, write.position);
    fdatasyncSync(fd);
    this.deleteSegments(write.doomed);
  }

  private async performAsync(write: WalWrite): Promise<void> {
    const fd = this.descriptorFor(write);
    await writeFully(fd, write.bytes, write.position);
    await fdatasyncAsync(fd);
    this.deleteSegments(write.doomed);
  }

  private descriptorFor(write: WalWrite): number {
    if (write.roll !== undefined) this.fds.set(write.segment, createSegment(this.directory, write.segment, write.roll));
    const fd = this.fds.get(write.segment);
    if (fd === undefined) throw new Error(`${this.segmentPath(write.segment)}: segment is not open`);
    return fd;
  }

  private deleteSegments(doomed: readonly number[] | undefined): void {
    if (doomed === undefined || doomed.length === 0) return;
    for (const sequence of doomed) {
      const fd = this.fds.get(sequence);
      if (fd !== undefined) closeSync(fd);
      this.fds.delete(sequence);
      unlinkSync(this.segmentPath(sequence));
    }
    fsyncDirectory(this.directory);
  }

  private fail(err: unknown): Error {
    const error = err instanceof Error ? err : new Error(String(err));
    this.failure ??= new Error(`${this.directory}: a write to the log failed, the log refuses further work: ${error.message}`);
    return error;
  }

  private refuseIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private refusal(): Promise<never> | undefined {
    if (!this.opened) return Promise.reject(new Error(`${this.directory}: the log store is not open`));
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return undefined;
  }

  /** Resolves once every write issued so far is durable. */
  private settled(): Promise<void> {
    return this.queue.then(() => this.refuseIfFailed());
  }

  private checkSlice(lo: number, hi: number): void {
    if (lo < this.log.offset + 1 || hi > this.log.last + 1 || lo > hi) {
      throw new RangeError(`entries [${lo}, ${hi}) outside the log [${this.log.offset + 1}, ${this.log.last + 1})`);
    }
  }

  /** The entries of [lo, hi) within maxBytes, from the cache or the files; undefined when one is not in the files yet. */
  private collect(lo: number, hi: number, maxBytes: number): Entry[] | undefined {
    const out: Entry[] = [];
    let size = 0;
    for (let i = lo; i < hi; i++) {
      let entry = this.log.cachedEntry(i);
      if (entry === undefined) {
        const location = this.log.location(i);
        if (location.write > this.completed) return undefined;
        entry = this.readEntry(i, location);
      }
      size += entry.data.byteLength;
      if (out.length > 0 && size > maxBytes) break;
      out.push(entry);
    }
    return out;
  }

  private readEntry(index: number, { segment, position, length }: EntryLocation): Entry {
    const fd = this.fds.get(segment);
    const file = this.segmentPath(segment);
    if (fd === undefined) throw new Error(`${file}: segment of entry ${index} is not open`);
    const record = Buffer.allocUnsafe(length);
    const read = readSync(fd, record, 0, length, position);
    if (read !== length) throw new CorruptStorageError(file, `entry ${index} at byte ${position}: file ends after ${read} of ${length} bytes`);
    return decodeEntryRecord(record, file, index);
  }

  private segmentPath(sequence: number): string {
    return join(this.directory, segmentName(sequence));
  }

  private closeFiles(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }

  /** Replay every segment into memory; create the first segment of a fresh log. */
  private load(): void {
    const sequences: number[] = [];
    for (const name of readdirSync(this.directory)) {
      if (SEGMENT_IN_PROGRESS.test(name)) rmSync(join(this.directory, name));
      const sequence = segmentSequence(name);
      if (sequence !== undefined) sequences.push(sequence);
    }
    sequences.sort((a, b) => a - b);
    for (let k = 1; k < sequences.length; k++) {
      if (sequences[k] !== sequences[k - 1]! + 1) {
        throw new CorruptStorageError(
          this.segmentPath(sequences[k - 1]! + 1),
          `segment missing between ${segmentName(sequences[k - 1]!)} and ${segmentName(sequences[k]!)}`,
        );
      }
    }
    const segments = this.readSegments(sequences);
    if (segments.length === 0) {
      this.current = 1;
      const head = headFrame(1, 0, 0);
      this.fds.set(1, createSegment(this.directory, 1, head));
      this.segmentMax.set(1, 0);
      this.size = head.byteLength;
      return;
    }
    this.replay(segments);
    for (const { sequence, end, length } of segments) {
      if (!this.segmentMax.has(sequence)) this.segmentMax.set(sequence, 0);
      const last = sequence === segments[segments.length - 1]!.sequence;
      const fd = openSync(this.segmentPath(sequence), last ? 'r+' : 'r');
      this.fds.set(sequence, fd);
      if (last && end < length) {
        // The torn tail: a write never acknowledged. Cut it so the next write follows the last whole frame.
        ftruncateSync(fd, end);
        fdatasyncSync(fd);
      }
    }
    const newest = segments[segments.length - 1]!;
    this.current = newest.sequence;
    this.size = newest.end;
  }

  /** Every segment's frames, checked; a torn end allowed only in the last one (a torn head there: an unfinished roll, removed). */
  private readSegments(sequences: readonly number[]): { sequence: number; frames: WalFrame[]; end: number; length: number }[] {
    const out: { sequence: number; frames: WalFrame[]; end: number; length: number }[] = [];
    for (const sequence of sequences) {
      const file = this.segmentPath(sequence);
      const bytes = readFileSync(file);
      const last = sequence === sequences[sequences.length - 1];
      const frames: WalFrame[] = [];
      let position = 0;
      while (position < bytes.byteLength) {
        const read = readFrame(bytes, position, file);
        if (read.status === 'torn') {
          if (!last) throw new CorruptStorageError(file, `segment ends inside a frame at byte ${position}, and it is not the last segment`);
          break;
        }
        if (frames.length === 0 && (read.frame.kind !== 'head' || read.frame.sequence !== sequence)) {
          throw new CorruptStorageError(
            file,
            read.frame.kind === 'head' ? `segment head names sequence ${read.frame.sequence}` : 'segment does not begin with its head',
          );
        }
        if (frames.length > 0 && read.frame.kind === 'head') throw new CorruptStorageError(file, `a second segment head at byte ${position}`);
        frames.push(read.frame);
        position = read.end;
      }
      if (frames.length === 0) {
        // A segment is renamed into place only with its head on disk, and only a newer one can be
        // begun by a write under way: the last segment without a whole head holds nothing acknowledged.
        if (out.length === 0) throw new CorruptStorageError(file, 'segment without a whole head');
        unlinkSync(file);
        fsyncDirectory(this.directory);
        continue;
      }
      out.push({ sequence, frames, end: position, length: bytes.byteLength });
    }
    return out;
  }

  /**
   * Apply the frames in order. Segments a compaction emptied are deleted, so the first one left may
   * begin with entries after its head's compaction point: that gap is allowed only where a later
   * compact frame covers it (what it skips was compacted away); any other gap is damage.
   */
  private replay(segments: readonly { sequence: number; frames: readonly WalFrame[] }[]): void {
    let compactedTo = 0;
    for (const { frames } of segments) {
      for (const f of frames) {
        if (f.kind === 'compact') compactedTo = Math.max(compactedTo, f.index);
        if (f.kind === 'head') compactedTo = Math.max(compactedTo, f.offset);
      }
    }
    const log = this.log;
    for (const { sequence, frames } of segments) {
      const file = this.segmentPath(sequence);
      for (const f of frames) {
        if (f.kind === 'head') {
          if (sequence === segments[0]!.sequence) log.reset(f.offset, f.offsetTerm);
        } else if (f.kind === 'append') {
          // Below a gap (offsetTerm unknown) the log is what deleted segments held: all of it compacted later.
          const belowGap = log.offsetTerm === UNKNOWN_TERM;
          if (f.from > log.last + 1 || (belowGap && f.from <= log.offset)) {
            if (f.from > compactedTo + 1) throw new CorruptStorageError(file, `append at ${f.from} leaves a gap after last index ${log.last}`);
            log.reset(f.from - 1, UNKNOWN_TERM);
          } else if (f.from <= log.offset) {
            throw new CorruptStorageError(file, `append at ${f.from} reaches below first index ${log.offset + 1}`);
          } else {
            log.truncateFrom(f.from);
          }
          for (const e of f.entries) log.push(e.index, { term: e.term, segment: sequence, position: e.position, length: e.length, write: 0 });
          const end = f.from + f.entries.length - 1;
          this.segmentMax.set(sequence, Math.max(this.segmentMax.get(sequence) ?? 0, end));
        } else if (f.kind === 'truncate') {
          if (f.index <= log.offset && log.offsetTerm === UNKNOWN_TERM) log.reset(f.index - 1, UNKNOWN_TERM);
          else if (f.index <= log.offset) throw new CorruptStorageError(file, `truncate from ${f.index} reaches below first index ${log.offset + 1}`);
          else log.truncateFrom(f.index);
        } else if (f.index > log.offset || (f.index === log.offset && log.offsetTerm === UNKNOWN_TERM)) {
          // The second case: the compaction that covers a gap left by deleted segments names its term.
          log.compactTo(f.index, f.term);
        }
      }
    }
    if (log.offsetTerm === UNKNOWN_TERM)
      throw new CorruptStorageError(this.segmentPath(segments[0]!.sequence), `entries before ${log.offset + 1} are missing and no compaction covers them`);
  }
}
