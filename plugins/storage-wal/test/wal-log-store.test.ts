import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync, renameSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptStorageError } from '@cairn/core';
import { rejection } from '@cairn/core/testkit';
import {
  appendFrameBytes,
  batch,
  COMPACT_FRAME_BYTES,
  corruption,
  entry,
  ExpectedLog,
  expectSameLog,
  flipByte,
  HEAD_BYTES,
  PER_SEGMENT,
  segmentFiles,
  segmentName,
  sequenceNames,
  walStores,
} from './wal-store-fixture.js';

/**
 * Behaviour of the WAL log store the storage conformance kit does not look at: segment files and
 * their names, rolling and deletion, what open repairs and what it refuses. Reads from the files
 * and the ordering of writes: wal-log-store-io.test.ts.
 */

describe('WalLogStore', () => {
  const stores = walStores();
  const { storeOn, opened, reopened, appendOneByOne } = stores;
  let directory: string;
  beforeEach(() => {
    directory = stores.directory;
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
      for (const [from, count] of [
        [50, 10],
        [60, 10],
        [70, 11],
      ] as const) {
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
});
