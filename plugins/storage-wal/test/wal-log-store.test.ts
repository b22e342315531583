import { expect } from 'chai';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptStorageError, EntryType, type Entry } from '@cairn/core';
import { rejection, TemporaryDirectories } from '@cairn/core/testkit';
import { createWalLogStore, WalLogStore, type WalPluginOptions } from '../src/index.js';

/**
 * Behaviour of the WAL log store the storage conformance kit does not look at: segment files and
 * their names, rolling and deletion, what open repairs and what it refuses, reads from the files,
 * and the ordering of inline and thread-pool writes.
 */

type StoreOptions = Omit<WalPluginOptions, 'directory'>;

/** Layout of the files, as src/wal-frame.ts defines it (computed here so a change of format shows). */
const HEAD_BYTES = 12 + 1 + 8 + 1 + 24;
/** One frame appending one entry of `size` data bytes: frame header, kind/first/count, record length, entry record. */
const appendFrameBytes = (count: number, size: number): number => 12 + 13 + count * (4 + 21 + size);
const COMPACT_FRAME_BYTES = 12 + 17;
const SEGMENT = /^[0-9a-f]{16}\.wal$/;
const segmentName = (sequence: number): string => `${sequence.toString(16).padStart(16, '0')}.wal`;

/** Deterministic data for entry `index` of `term`, `size` bytes (xorshift seeded from both). */
function dataFor(index: number, term: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = ((index * 2654435761) ^ (term * 40503)) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

function entry(index: number, term: number, size = 300): Entry {
  return { index, term, type: index % 7 === 0 ? EntryType.ConfChange : EntryType.Normal, data: dataFor(index, term, size) };
}

function batch(from: number, count: number, term: number, size = 300): Entry[] {
  return Array.from({ length: count }, (_, i) => entry(from + i, term, size));
}

/** An entry as comparable plain data: the bytes as hex. */
const plain = (e: Entry): { index: number; term: number; type: EntryType; data: string } => ({ index: e.index, term: e.term, type: e.type, data: Buffer.from(e.data).toString('hex') });

/** What the log should hold: the reference the store is compared with. */
class ExpectedLog {
  offset = 0;
  offsetTerm = 0;
  readonly entries: Entry[] = [];

  get first(): number { return this.offset + 1; }
  get last(): number { return this.offset + this.entries.length; }

  append(batchEntries: readonly Entry[]): void {
    if (batchEntries.length === 0) return;
    const from = batchEntries[0]!.index;
    if (from > this.last + 1 || from <= this.offset) throw new Error(`model: bad append at ${from}`);
    this.entries.length = from - this.first;
    this.entries.push(...batchEntries);
  }

  truncateFrom(index: number): void {
    if (index <= this.offset) throw new Error(`model: bad truncate at ${index}`);
    if (index <= this.last) this.entries.length = index - this.first;
  }

  compactTo(index: number, term: number): void {
    if (index <= this.offset) return;
    if (index >= this.last) {
      this.entries.length = 0;
    } else {
      this.entries.splice(0, index - this.offset);
    }
    this.offset = index;
    this.offsetTerm = term;
  }

  term(index: number): number | undefined {
    if (index === this.offset) return this.offsetTerm;
    if (index < this.offset || index > this.last) return undefined;
    return this.entries[index - this.first]!.term;
  }
}

/** The store holds exactly what `expected` holds: bounds, every term, every entry's bytes. */
async function expectSameLog(store: WalLogStore, expected: ExpectedLog): Promise<void> {
  expect([store.firstIndex(), store.lastIndex()], 'firstIndex, lastIndex').to.deep.equal([expected.first, expected.last]);
  expect(await store.term(expected.offset), `term(${expected.offset})`).to.equal(expected.offsetTerm);
  expect(await store.term(expected.offset - 1), `term(${expected.offset - 1})`).to.equal(undefined);
  expect(await store.term(expected.last + 1), `term(${expected.last + 1})`).to.equal(undefined);
  const terms: (number | undefined)[] = [];
  for (let i = expected.first; i <= expected.last; i++) terms.push(await store.term(i));
  expect(terms, 'terms').to.deep.equal(expected.entries.map((e) => e.term));
  const got = await store.entries(expected.first, expected.last + 1);
  expect(got.map((e) => e.index), 'indexes read').to.deep.equal(expected.entries.map((e) => e.index));
  expect(got.map(plain), 'entries read').to.deep.equal(expected.entries.map(plain));
}

function segmentFiles(directory: string): string[] {
  return readdirSync(directory).filter((name) => SEGMENT.test(name)).sort();
}

const sequenceNames = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => segmentName(from + i));

/** The CorruptStorageError `promise` rejects with, checked to name `file`. */
async function corruption(promise: Promise<unknown>, file: string): Promise<CorruptStorageError> {
  const err = await rejection(promise);
  expect(err, String(err)).to.be.instanceOf(CorruptStorageError);
  const corrupt = err as CorruptStorageError;
  expect(corrupt.file).to.equal(file);
  expect(corrupt.message).to.contain(file);
  return corrupt;
}

function flipByte(file: string, position: number): void {
  const fd = openSync(file, 'r+');
  try {
    const byte = Buffer.alloc(1);
    expect(readSync(fd, byte, 0, 1, position)).to.equal(1);
    byte[0] = byte[0]! ^ 0x5a;
    writeSync(fd, byte, 0, 1, position);
  } finally {
    closeSync(fd);
  }
}

/** Deterministic pseudo-random integers in [0, n). */
function randomSource(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n: number): number => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x % n;
  };
}

/** 300-byte entries in 8 KiB segments: 23 one-entry frames after the head fill a segment. */
const SMALL_SEGMENTS: StoreOptions = { segmentBytes: 8192, inlineSyncEntries: 1, cacheBytes: 1 << 20 };
const PER_SEGMENT = Math.floor((8192 - HEAD_BYTES) / appendFrameBytes(1, 300));

describe('WalLogStore', () => {
  const dirs = new TemporaryDirectories('cairn-wal');
  const stores: WalLogStore[] = [];
  let directory: string;

  /** A store on `directory`, closed after the test. */
  const storeOn = (dir: string, options: StoreOptions = SMALL_SEGMENTS): WalLogStore => {
    const store = createWalLogStore(dir, options);
    stores.push(store);
    return store;
  };
  const opened = async (dir: string, options: StoreOptions = SMALL_SEGMENTS): Promise<WalLogStore> => {
    const store = storeOn(dir, options);
    await store.open();
    return store;
  };
  /** Close `store` and open the directory again with a new store object. */
  const reopened = async (store: WalLogStore, options: StoreOptions = SMALL_SEGMENTS): Promise<WalLogStore> => {
    await store.close();
    return opened(store.directory, options);
  };
  /** Append one entry per call, awaiting each: one frame per entry. */
  const appendOneByOne = async (store: WalLogStore, expected: ExpectedLog, from: number, count: number, term: number, size = 300): Promise<void> => {
    for (const e of batch(from, count, term, size)) {
      await store.append([e]);
      expected.append([e]);
    }
  };

  beforeEach(async () => {
    directory = await dirs.make('log');
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await dirs.removeAll();
  });

  describe('segment files', () => {
    it('a fresh log is one segment, 0000000000000001.wal, holding only its head', async () => {
      const store = await opened(directory);
      expect(readdirSync(directory)).to.deep.equal([segmentName(1)]);
      expect(statSync(join(directory, segmentName(1))).size).to.equal(HEAD_BYTES);
      expect(store.directory).to.equal(directory);
      await store.close();
      // Reopened, still one segment and an empty log.
      const again = await opened(directory);
      expect(readdirSync(directory)).to.deep.equal([segmentName(1)]);
      expect([again.firstIndex(), again.lastIndex(), await again.term(0)]).to.deep.equal([1, 0, 0]);
    });

    it('rolls to a new segment past segmentBytes, names them in hex from 1, and reopens with every entry', async () => {
      const store = await opened(directory);
      const expected = new ExpectedLog();
      await appendOneByOne(store, expected, 1, 150, 1);
      await appendOneByOne(store, expected, 151, 100, 2);
      await appendOneByOne(store, expected, 251, 150, 3);
      expect(PER_SEGMENT).to.equal(23);
      const count = Math.ceil(400 / PER_SEGMENT);
      expect(count).to.equal(18);
      // 0000000000000001.wal … 0000000000000012.wal: hex names (000000000000000a.wal among them).
      const files = segmentFiles(directory);
      expect(files).to.deep.equal(sequenceNames(1, count));
      expect(files).to.include('000000000000000a.wal');
      expect(readdirSync(directory).sort()).to.deep.equal(files);
      for (const [k, name] of files.entries()) {
        const size = statSync(join(directory, name)).size;
        const frames = k < count - 1 ? PER_SEGMENT : 400 - PER_SEGMENT * (count - 1);
        expect(size, name).to.equal(HEAD_BYTES + frames * appendFrameBytes(1, 300));
        expect(size, name).to.be.at.most(8192);
      }
      await expectSameLog(store, expected);

      const again = await reopened(store);
      expect(again).to.not.equal(store);
      await expectSameLog(again, expected);
      expect(segmentFiles(directory)).to.deep.equal(files);
      // The next append goes on in the last segment, not a new one.
      await again.append([entry(401, 3)]);
      expected.append([entry(401, 3)]);
      expect(segmentFiles(directory)).to.deep.equal(files);
      await expectSameLog(await reopened(again), expected);
    });

    it('puts a batch larger than a segment alone in a fresh segment, and rolls again after it', async () => {
      const store = await opened(directory);
      const expected = new ExpectedLog();
      await appendOneByOne(store, expected, 1, 3, 1);
      const big = batch(4, 40, 1);
      await store.append(big);
      expected.append(big);
      expect(segmentFiles(directory)).to.deep.equal(sequenceNames(1, 2));
      expect(statSync(join(directory, segmentName(1))).size).to.equal(HEAD_BYTES + 3 * appendFrameBytes(1, 300));
      expect(statSync(join(directory, segmentName(2))).size).to.equal(HEAD_BYTES + appendFrameBytes(40, 300));
      await store.append([entry(44, 1)]);
      expected.append([entry(44, 1)]);
      expect(segmentFiles(directory)).to.deep.equal(sequenceNames(1, 3));
      expect(statSync(join(directory, segmentName(3))).size).to.equal(HEAD_BYTES + appendFrameBytes(1, 300));
      await expectSameLog(await reopened(store), expected);
    });
  });

  describe('compaction', () => {
    it('deletes the segments a compaction emptied, never the current one, and reopens the rest', async () => {
      const store = await opened(directory);
      const expected = new ExpectedLog();
      await appendOneByOne(store, expected, 1, 100, 1);
      await appendOneByOne(store, expected, 101, 100, 2);
      expect(segmentFiles(directory)).to.deep.equal(sequenceNames(1, 9));
      // Segment k holds entries 23(k-1)+1 … 23k: compacting to 100 empties segments 1-4 (… 92), not 5 (93-115).
      await store.compactTo(100, 1);
      expected.compactTo(100, 1);
      expect(segmentFiles(directory)).to.deep.equal(sequenceNames(5, 9));
      await expectSameLog(store, expected);
      let again = await reopened(store);
      await expectSameLog(again, expected);
      expect([again.firstIndex(), await again.term(100), await again.term(99)]).to.deep.equal([101, 1, undefined]);

      // Near the end: only the current segment (185-200) is left.
      await again.compactTo(190, 2);
      expected.compactTo(190, 2);
      expect(segmentFiles(directory)).to.deep.equal([segmentName(9)]);
      again = await reopened(again);
      await expectSameLog(again, expected);
      expect([again.firstIndex(), await again.term(190)]).to.deep.equal([191, 2]);

      // To lastIndex: the current segment is emptied but stays, the compact frame is in it.
      await again.compactTo(200, 2);
      expected.compactTo(200, 2);
      expect(segmentFiles(directory)).to.deep.equal([segmentName(9)]);
      again = await reopened(again);
      await expectSameLog(again, expected);
      expect([again.firstIndex(), again.lastIndex(), await again.term(200)]).to.deep.equal([201, 200, 2]);
      // Appends go on at 201 and survive a reopen.
      await appendOneByOne(again, expected, 201, 30, 3);
      expect(segmentFiles(directory)).to.deep.equal(sequenceNames(9, 10));
      await expectSameLog(await reopened(again), expected);
    });

    it('compacting past lastIndex empties the log, deletes the old segments, and appends continue at index + 1 across reopens', async () => {
      const store = await opened(directory);
      const expected = new ExpectedLog();
      await appendOneByOne(store, expected, 1, 60, 1);
      expect(segmentFiles(directory)).to.deep.equal(sequenceNames(1, 3));
      await store.compactTo(1000, 7);
      expected.compactTo(1000, 7);
      expect([store.firstIndex(), store.lastIndex(), await store.term(1000), await store.term(60)]).to.deep.equal([1001, 1000, 7, undefined]);
      expect(segmentFiles(directory)).to.deep.equal([segmentName(3)]);
      expect(statSync(join(directory, segmentName(3))).size).to.equal(HEAD_BYTES + 14 * appendFrameBytes(1, 300) + COMPACT_FRAME_BYTES);
      expect(await rejection(store.append([entry(1000, 7)]))).to.be.instanceOf(RangeError);
      expect(await rejection(store.append([entry(1002, 7)]))).to.be.instanceOf(RangeError);

      let again = await reopened(store);
      await expectSameLog(again, expected);
      expect([again.firstIndex(), again.lastIndex(), await again.term(1000)]).to.deep.equal([1001, 1000, 7]);
      await appendOneByOne(again, expected, 1001, 50, 8);
      again = await reopened(again);
      await expectSameLog(again, expected);
      // A later compaction within the new entries deletes what it emptied, including the old segment 3.
      await again.compactTo(1040, 8);
      expected.compactTo(1040, 8);
      expect(segmentFiles(directory)[0]).to.not.equal(segmentName(3));
      await expectSameLog(await reopened(again), expected);
    });

    it('a compaction after a conflicting suffix was replaced across segments reopens', async () => {
      // Segments 1-5 hold 1-23, 24-46, 47-69, 70-92, 93-100. The suffix from 50 is replaced (term 2):
      // the append frame at 50 goes in segment 5. compactTo(75) deletes segments 1-3 (none holds
      // anything after 69) and keeps 4, whose entries 70-92 were truncated but stay recorded as its
      // highest. Replayed from segment 4 on, the log begins after 69, and the append at 50 in
      // segment 5 is then refused as "reaching below first index 70".
      const store = await opened(directory);
      const expected = new ExpectedLog();
      await appendOneByOne(store, expected, 1, 100, 1);
      // Replaced in batches of 10, 10, 11: the frame at 50 goes in segment 5, the others roll to 6.
      for (const [from, count] of [[50, 10], [60, 10], [70, 11]] as const) {
        const replacement = batch(from, count, 2);
        await store.append(replacement);
        expected.append(replacement);
      }
      await store.compactTo(75, 2);
      expected.compactTo(75, 2);
      expect(segmentFiles(directory)).to.deep.equal(sequenceNames(4, 6));
      await expectSameLog(store, expected);
      await store.close();
      const again = storeOn(directory);
      await again.open();
      await expectSameLog(again, expected);
    });

    it('the same with truncateFrom then appends', async () => {
      const store = await opened(directory);
      const expected = new ExpectedLog();
      await appendOneByOne(store, expected, 1, 100, 1);
      await store.truncateFrom(50);
      expected.truncateFrom(50);
      await appendOneByOne(store, expected, 50, 31, 2);
      await store.compactTo(75, 2);
      expected.compactTo(75, 2);
      await expectSameLog(store, expected);
      await store.close();
      const again = storeOn(directory);
      await again.open();
      await expectSameLog(again, expected);
    });
  });

  describe('what open refuses and what it repairs', () => {
    /** 100 entries of term 1 in segments 1-5, closed. */
    const fiveSegments = async (): Promise<ExpectedLog> => {
      const store = await opened(directory);
      const expected = new ExpectedLog();
      await appendOneByOne(store, expected, 1, 100, 1);
      await store.close();
      expect(segmentFiles(directory)).to.deep.equal(sequenceNames(1, 5));
      return expected;
    };

    it('refuses a segment missing in the middle of the sequence, naming the missing file', async () => {
      const expected = await fiveSegments();
      const missing = join(directory, segmentName(3));
      const aside = join(directory, 'segment-3-aside');
      renameSync(missing, aside);
      const store = storeOn(directory);
      const err = await corruption(store.open(), missing);
      expect(err.message).to.contain(segmentName(2)).and.to.contain(segmentName(4));
      // Refused: the store is not open, and nothing on disk was touched.
      expect(await rejection(store.append([entry(101, 1)]))).to.be.instanceOf(Error);
      expect(segmentFiles(directory)).to.deep.equal([segmentName(1), segmentName(2), segmentName(4), segmentName(5)]);
      // With the segment back, the same store object opens the whole log.
      renameSync(aside, missing);
      await store.open();
      await expectSameLog(store, expected);
    });

    it('refuses a log whose first segment is missing when no compaction covers it', async () => {
      await fiveSegments();
      const first = join(directory, segmentName(1));
      renameSync(first, join(directory, 'aside'));
      const err = await rejection(storeOn(directory).open());
      expect(err, String(err)).to.be.instanceOf(CorruptStorageError);
      expect((err as CorruptStorageError).file).to.equal(join(directory, segmentName(2)));
    });

    for (const cut of [1, 3, 12, 340, 349]) {
      it(`cuts a torn tail (the last segment ${cut} bytes short): the last append is gone, the rest intact, and appends go on`, async () => {
        const expected = await fiveSegments();
        const last = join(directory, segmentName(5));
        const size = statSync(last).size;
        expect(size).to.equal(HEAD_BYTES + 8 * appendFrameBytes(1, 300));
        truncateSync(last, size - cut);
        expected.truncateFrom(100);
        let store = await opened(directory);
        await expectSameLog(store, expected);
        // The torn frame was cut off the file.
        expect(statSync(last).size).to.equal(size - appendFrameBytes(1, 300));
        const replacement = entry(100, 2, 123);
        await store.append([replacement]);
        expected.append([replacement]);
        await appendOneByOne(store, expected, 101, 5, 2);
        store = await reopened(store);
        await expectSameLog(store, expected);
        expect(segmentFiles(directory)).to.deep.equal(sequenceNames(1, 5));
      });
    }

    it('refuses a segment that is not the last and ends inside a frame', async () => {
      await fiveSegments();
      const second = join(directory, segmentName(2));
      truncateSync(second, statSync(second).size - 3);
      const err = await corruption(storeOn(directory).open(), second);
      expect(err.message).to.contain('not the last segment');
      expect(statSync(second).size).to.equal(HEAD_BYTES + 23 * appendFrameBytes(1, 300) - 3);
    });

    it('refuses a flipped byte in the middle of a frame of a segment that is not the last, naming it', async () => {
      await fiveSegments();
      const second = join(directory, segmentName(2));
      const before = readFileSync(second);
      // In the data of the 6th frame of segment 2 (entry 29).
      flipByte(second, HEAD_BYTES + 5 * appendFrameBytes(1, 300) + 150);
      const err = await corruption(storeOn(directory).open(), second);
      expect(err.message).to.contain(`byte ${HEAD_BYTES + 5 * appendFrameBytes(1, 300)}`);
      expect(readFileSync(second).length).to.equal(before.length);
    });

    it('refuses (does not cut) a flipped byte in the last frame of the last segment, body or header', async () => {
      const last = join(directory, segmentName(5));
      await fiveSegments();
      const lastFrame = HEAD_BYTES + 7 * appendFrameBytes(1, 300);
      flipByte(last, lastFrame + 200);
      await corruption(storeOn(directory).open(), last);
      flipByte(last, lastFrame + 200);
      // A damaged length field must not pass as a frame the file ends inside.
      flipByte(last, lastFrame + 1);
      await corruption(storeOn(directory).open(), last);
      expect(statSync(last).size).to.equal(lastFrame + appendFrameBytes(1, 300));
    });

    it('refuses a segment whose head names another sequence', async () => {
      await fiveSegments();
      // Swap the contents of segments 2 and 3 (names intact, heads now wrong).
      const second = join(directory, segmentName(2));
      const third = join(directory, segmentName(3));
      const a = readFileSync(second);
      writeFileSync(second, readFileSync(third));
      writeFileSync(third, a);
      const err = await corruption(storeOn(directory).open(), second);
      expect(err.message).to.contain('sequence 3');
    });

    it('removes an unfinished roll (a next segment with 5 bytes of garbage) and keeps what the earlier segments hold', async () => {
      const expected = await fiveSegments();
      const sixth = join(directory, segmentName(6));
      writeFileSync(sixth, Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x01]));
      let store = await opened(directory);
      expect(existsSync(sixth)).to.equal(false);
      expect(segmentFiles(directory)).to.deep.equal(sequenceNames(1, 5));
      await expectSameLog(store, expected);
      // Appends go on, and the next roll creates segment 6 again, properly.
      await appendOneByOne(store, expected, 101, 20, 2);
      expect(segmentFiles(directory)).to.deep.equal(sequenceNames(1, 6));
      store = await reopened(store);
      await expectSameLog(store, expected);
    });

    it('removes a freshly rolled segment cut to 5 bytes, and a leftover .wal.tmp', async () => {
      const store = await opened(directory);
      const expected = new ExpectedLog();
      await appendOneByOne(store, expected, 1, PER_SEGMENT, 1);
      expect(segmentFiles(directory)).to.deep.equal([segmentName(1)]);
      await store.append([entry(PER_SEGMENT + 1, 1)]);
      expect(segmentFiles(directory)).to.deep.equal(sequenceNames(1, 2));
      await store.close();
      truncateSync(join(directory, segmentName(2)), 5);
      const temporary = join(directory, `${segmentName(3)}.tmp`);
      writeFileSync(temporary, Buffer.alloc(20, 1));
      const again = await opened(directory);
      expect(readdirSync(directory).sort()).to.deep.equal([segmentName(1)]);
      await expectSameLog(again, expected);
      await appendOneByOne(again, expected, PER_SEGMENT + 1, 3, 2);
      expect(segmentFiles(directory)).to.deep.equal(sequenceNames(1, 2));
      await expectSameLog(await reopened(again), expected);
    });

    for (const size of [0, 5, HEAD_BYTES - 1]) {
      it(`refuses the only segment when its head is torn (${size} bytes), and leaves the file in place`, async () => {
        const store = await opened(directory);
        await store.append(batch(1, 3, 1));
        await store.close();
        const only = join(directory, segmentName(1));
        truncateSync(only, size);
        const err = await corruption(storeOn(directory).open(), only);
        expect(err.message).to.contain('head');
        expect(readdirSync(directory)).to.deep.equal([segmentName(1)]);
        expect(statSync(only).size).to.equal(size);
      });
    }

    it('refuses the first of several segments when its head is torn', async () => {
      await fiveSegments();
      const first = join(directory, segmentName(1));
      truncateSync(first, 5);
      await corruption(storeOn(directory).open(), first);
      expect(segmentFiles(directory)).to.deep.equal(sequenceNames(1, 5));
    });
  });

  describe('reads from the segment files', () => {
    for (const cacheBytes of [0, 1000]) {
      it(`returns exact entries read back from the files (cacheBytes ${cacheBytes}), honouring maxBytes`, async () => {
        const options: StoreOptions = { segmentBytes: 8192, inlineSyncEntries: 1, cacheBytes };
        const store = await opened(directory, options);
        const expected = new ExpectedLog();
        for (let from = 1; from <= 60; from += 5) {
          const b = Array.from({ length: 5 }, (_, i) => entry(from + i, 1 + (from >> 4), 50 + ((from + i) * 37) % 400));
          await store.append(b);
          expected.append(b);
        }
        await expectSameLog(store, expected);
        const slice = await store.entries(7, 12);
        expect(slice.map(plain)).to.deep.equal(expected.entries.slice(6, 11).map(plain));
        // maxBytes: whole entries while the total stays within it, at least one.
        const sizes = expected.entries.map((e) => e.data.byteLength);
        const limited = await store.entries(3, 61, sizes[2]! + sizes[3]! + sizes[4]!);
        expect(limited.map((e) => e.index)).to.deep.equal([3, 4, 5]);
        expect((await store.entries(3, 61, 1)).map(plain)).to.deep.equal([plain(expected.entries[2]!)]);
        await expectSameLog(await reopened(store, options), expected);
      });
    }

    it('the caller reusing its buffers after append does not change the log', async () => {
      const store = await opened(directory, { segmentBytes: 8192, inlineSyncEntries: 0, cacheBytes: 1 << 20 });
      const e = entry(1, 1, 64);
      const copy = plain(e);
      const appending = store.append([e]);
      e.data.fill(7);
      await appending;
      expect(plain((await store.entries(1, 2))[0]!)).to.deep.equal(copy);
      expect(plain((await (await reopened(store)).entries(1, 2))[0]!)).to.deep.equal(copy);
    });

    it('a byte flipped in an old entry while closed is refused at open, naming the file', async () => {
      const options: StoreOptions = { segmentBytes: 8192, inlineSyncEntries: 1, cacheBytes: 0 };
      const store = await opened(directory, options);
      await appendOneByOne(store, new ExpectedLog(), 1, 50, 1);
      await store.close();
      const first = join(directory, segmentName(1));
      // The data of entry 4: frame 4, past the frame header, append head, record length and record head.
      flipByte(first, HEAD_BYTES + 3 * appendFrameBytes(1, 300) + 12 + 13 + 4 + 21 + 10);
      const err = await corruption(storeOn(directory, options).open(), first);
      expect(err.message).to.contain('checksum');
    });

    it('a byte flipped in an old entry while open is refused by entries(), naming the file (the record checksum)', async () => {
      const options: StoreOptions = { segmentBytes: 8192, inlineSyncEntries: 1, cacheBytes: 0 };
      const store = await opened(directory, options);
      const expected = new ExpectedLog();
      await appendOneByOne(store, expected, 1, 50, 1);
      const first = join(directory, segmentName(1));
      flipByte(first, HEAD_BYTES + 3 * appendFrameBytes(1, 300) + 12 + 13 + 4 + 21 + 10);
      await corruption(store.entries(4, 5), first);
      await corruption(store.entries(1, 10), first);
      expect((await store.entries(5, 10)).map(plain)).to.deep.equal(expected.entries.slice(4, 9).map(plain));
    });
  });

  describe('inline and thread-pool writes', () => {
    /**
     * Issue `ops` operations on `store` without awaiting them, mirrored in `expected`: appends of
     * `sizes()` entries at a point in [first, last + 1], truncations and compactions, sometimes past
     * lastIndex. With `oneCompactionInFlight`, each compaction first waits for the previous one (and
     * only for it: appends and truncations stay in flight); without, compactions overlap too (two
     * in flight once doomed the same segment twice).
     */
    const issueMany = async (
      store: WalLogStore, expected: ExpectedLog, ops: number, random: (n: number) => number, sizes: () => number, oneCompactionInFlight = false,
    ): Promise<Promise<void>[]> => {
      const promises: Promise<void>[] = [];
      let lastCompaction: Promise<void> = Promise.resolve();
      let term = Math.max(1, expected.offsetTerm, ...expected.entries.map((e) => e.term));
      for (let k = 0; k < ops; k++) {
        const roll = random(100);
        if (roll < 70 || roll >= 90 || expected.last < expected.first) {
          // Mostly at the end; sometimes replacing a suffix with a newer term.
          const replace = roll < 15 && expected.last >= expected.first;
          const from = replace ? expected.last - random(Math.min(12, expected.last - expected.first + 1)) : expected.last + 1;
          if (replace) term++;
          const count = sizes();
          const b = Array.from({ length: count }, (_, i) => entry(from + i, term, random(600)));
          promises.push(store.append(b));
          expected.append(b);
        } else if (roll < 78) {
          const index = expected.last - random(Math.min(8, expected.last - expected.first + 1));
          promises.push(store.truncateFrom(index));
          expected.truncateFrom(index);
        } else {
          if (oneCompactionInFlight) await lastCompaction;
          let index: number;
          let t: number;
          if (roll < 89) {
            index = expected.last - random(Math.min(60, expected.last - expected.first + 1));
            t = expected.term(index)!;
          } else {
            index = expected.last + 1 + random(5);
            t = ++term;
          }
          lastCompaction = store.compactTo(index, t);
          promises.push(lastCompaction);
          expected.compactTo(index, t);
        }
        // The store's bounds move at once, before anything is durable.
        expect([store.firstIndex(), store.lastIndex()]).to.deep.equal([expected.first, expected.last]);
      }
      // End on a tail of entries, so what is compared after a reopen is not an empty log.
      const tail = batch(expected.last + 1, 30, term + 1, 200);
      promises.push(store.append(tail));
      expected.append(tail);
      return promises;
    };

    for (const oneCompactionInFlight of [false, true]) {
      const variant = oneCompactionInFlight ? ' (one compaction in flight at a time)' : ' (compactions in flight together)';
      it(`inlineSyncEntries 0: many operations issued at once land in order, and reopen the same${variant}`, async () => {
        const options: StoreOptions = { segmentBytes: 8192, inlineSyncEntries: 0, cacheBytes: 4096 };
        const store = await opened(directory, options);
        const expected = new ExpectedLog();
        const random = randomSource(7);
        await Promise.all(await issueMany(store, expected, 300, random, () => 1 + random(6), oneCompactionInFlight));
        await expectSameLog(store, expected);
        // Segments rolled and compactions deleted the old ones: a contiguous run, not starting at 1.
        const files = segmentFiles(directory);
        expect(files[0]).to.not.equal(segmentName(1));
        const again = await reopened(store, options);
        await expectSameLog(again, expected);
        // And once more, on the reopened store, then closed with the writes still in flight.
        const inFlight = await issueMany(again, expected, 100, random, () => 1 + random(6), oneCompactionInFlight);
        await again.close();
        await Promise.all(inFlight);
        await expectSameLog(await opened(directory, options), expected);
      });

      it(`inlineSyncEntries 4: 1-entry and 10-entry batches interleave inline and thread-pool writes in order${variant}`, async () => {
        const options: StoreOptions = { segmentBytes: 8192, inlineSyncEntries: 4, cacheBytes: 4096 };
        const store = await opened(directory, options);
        const expected = new ExpectedLog();
        const random = randomSource(11);
        let tick = 0;
        const sizes = (): number => (tick++ % 3 === 2 ? 10 : 1);
        // Groups issued together: each group's first write finds nothing in flight (inline when small).
        for (let group = 0; group < 25; group++) {
          await Promise.all(await issueMany(store, expected, 1 + random(12), random, sizes, oneCompactionInFlight));
        }
        await expectSameLog(store, expected);
        await expectSameLog(await reopened(store, options), expected);
      });
    }

    it('two compactions in flight at once both succeed and delete each segment once', async () => {
      const store = await opened(directory);
      const expected = new ExpectedLog();
      await appendOneByOne(store, expected, 1, 100, 1);
      // A 10-entry batch goes through the thread pool; the compactions queue behind it, and both
      // find segment 1 (entries 1-23) empty: the second unlinks it again.
      const outcomes = await Promise.allSettled([store.append(batch(101, 10, 1)), store.compactTo(30, 1), store.compactTo(50, 1)]);
      expected.append(batch(101, 10, 1));
      expected.compactTo(50, 1);
      expect(outcomes.map((o) => (o.status === 'fulfilled' ? 'ok' : String(o.reason)))).to.deep.equal(['ok', 'ok', 'ok']);
      expect(segmentFiles(directory)).to.deep.equal(sequenceNames(3, 5));
      await store.append([entry(111, 1)]);
      expected.append([entry(111, 1)]);
      await expectSameLog(await reopened(store), expected);
    });

    it('a small write issued behind a thread-pool write resolves after it', async () => {
      const store = await opened(directory, { segmentBytes: 1 << 20, inlineSyncEntries: 4, cacheBytes: 1 << 20 });
      const order: string[] = [];
      const big = store.append(batch(1, 10, 1)).then(() => order.push('big'));
      const small = store.append([entry(11, 1)]).then(() => order.push('small'));
      const empty = store.append([]).then(() => order.push('empty'));
      await Promise.all([big, small, empty]);
      expect(order).to.deep.equal(['big', 'small', 'empty']);
      // Nothing in flight: the small write is done (inline) by the time append returns; the file shows it.
      const size = statSync(join(directory, segmentName(1))).size;
      void store.append([entry(12, 1)]);
      expect(statSync(join(directory, segmentName(1))).size).to.equal(size + appendFrameBytes(1, 300));
    });

    it('entries() issued while thread-pool writes are in flight resolve to the right bytes for entries evicted from the cache', async () => {
      const options: StoreOptions = { segmentBytes: 8192, inlineSyncEntries: 0, cacheBytes: 1000 };
      const store = await opened(directory, options);
      const expected = new ExpectedLog();
      const first = batch(1, 40, 1);
      await store.append(first);
      expected.append(first);
      const writes: Promise<void>[] = [];
      const reads: { promise: Promise<Entry[]>; want: Entry[] }[] = [];
      const read = (lo: number, hi: number): void => {
        reads.push({ promise: store.entries(lo, hi), want: expected.entries.slice(lo - expected.first, hi - expected.first) });
      };
      for (let from = 41; from <= 131; from += 10) {
        const b = batch(from, 10, 1 + (from >> 5));
        writes.push(store.append(b));
        expected.append(b);
        read(1, 41);
        // Just appended, not yet durable, mostly evicted already (1000 bytes of cache keep 3 entries).
        read(from, from + 10);
        read(Math.max(1, from - 25), from + 10);
      }
      const got = await Promise.all(reads.map((r) => r.promise));
      for (const [k, r] of reads.entries()) expect(got[k]!.map(plain), `read ${k}`).to.deep.equal(r.want.map(plain));
      await Promise.all(writes);
      await expectSameLog(await reopened(store, options), expected);
    });

    it('entries() waiting for in-flight writes is not broken by a later append replacing the slice', async () => {
      // entries(5, 15) must wait for the write in flight (5-14 are not cached). While it waits, an
      // append replaces 8-15; its entries are evicted at once and are not on disk yet. The read,
      // resumed once the first write is durable, reads 8-12 from where the second write will put them.
      const options: StoreOptions = { segmentBytes: 1 << 20, inlineSyncEntries: 0, cacheBytes: 1000 };
      const store = await opened(directory, options);
      const old = batch(1, 50, 1);
      await store.append(old.slice(0, 40));
      const inFlight = store.append(old.slice(40));
      const reading = store.entries(5, 15);
      const replacement = batch(8, 8, 2);
      const replacing = store.append(replacement);
      const outcome = await reading.then((value) => ({ value }), (error: unknown) => ({ error }));
      await Promise.all([inFlight, replacing]);
      expect('error' in outcome ? String(outcome.error) : 'resolved').to.equal('resolved');
      const got = 'value' in outcome ? outcome.value : [];
      expect(got.map((e) => e.index)).to.deep.equal([5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
      // Each entry is the old one or its replacement, whole.
      for (const e of got) {
        const candidates = [old[e.index - 1]!, replacement[e.index - 8]].filter((c): c is Entry => c !== undefined).map(plain);
        expect(candidates, `entry ${e.index}`).to.deep.include(plain(e));
      }
    });
  });

  describe('lifecycle', () => {
    it('operations on a store that is not open reject; close is idempotent; open again after close works', async () => {
      const store = storeOn(directory, { segmentBytes: 8192, inlineSyncEntries: 1, cacheBytes: 0 });
      for (const op of [() => store.append([entry(1, 1)]), () => store.truncateFrom(1), () => store.compactTo(1, 1), () => store.append([])]) {
        const err = await rejection(op());
        expect(err).to.be.instanceOf(Error);
        expect((err as Error).message).to.equal(`${directory}: the log store is not open`);
      }
      // Not opened: no segment was created (no directory content).
      expect(readdirSync(directory)).to.deep.equal([]);
      await store.close();
      await store.open();
      await store.open();
      await store.append(batch(1, 5, 1));
      await store.close();
      await store.close();
      for (const op of [() => store.append([entry(6, 1)]), () => store.truncateFrom(3), () => store.compactTo(3, 1)]) {
        expect(((await rejection(op())) as Error).message).to.equal(`${directory}: the log store is not open`);
      }
      // Nothing cached (cacheBytes 0) and the files closed: reads of entries reject too.
      expect(await rejection(store.entries(1, 3))).to.be.instanceOf(Error);
      await store.open();
      const expected = new ExpectedLog();
      expected.append(batch(1, 5, 1));
      await expectSameLog(store, expected);
    });

    it('append([]) resolves, writing nothing', async () => {
      const store = await opened(directory);
      await store.append(batch(1, 2, 1));
      const size = statSync(join(directory, segmentName(1))).size;
      expect(await store.append([])).to.equal(undefined);
      expect([store.firstIndex(), store.lastIndex()]).to.deep.equal([1, 2]);
      expect(statSync(join(directory, segmentName(1))).size).to.equal(size);
      // truncateFrom past the end and a compaction at or below the compaction point write nothing either.
      await store.truncateFrom(3);
      await store.compactTo(0, 0);
      expect(statSync(join(directory, segmentName(1))).size).to.equal(size);
    });

    it('refuses a batch that is not contiguous with RangeError, writing nothing', async () => {
      const store = await opened(directory);
      await store.append(batch(1, 2, 1));
      const size = statSync(join(directory, segmentName(1))).size;
      const err = await rejection(store.append([entry(3, 1), entry(5, 1)]));
      expect(err).to.be.instanceOf(RangeError);
      expect([store.firstIndex(), store.lastIndex()]).to.deep.equal([1, 2]);
      expect(statSync(join(directory, segmentName(1))).size).to.equal(size);
    });

    it('creates a missing directory, nested, at open', async () => {
      const nested = join(directory, 'a', 'b', 'wal');
      const store = await opened(nested);
      expect(readdirSync(nested)).to.deep.equal([segmentName(1)]);
      await store.append([entry(1, 1)]);
      const again = await reopened(store);
      expect(again.lastIndex()).to.equal(1);
    });
  });
});
