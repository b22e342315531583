import { expect } from 'chai';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Entry } from '@cairn/core';
import { rejection } from '@cairn/core/testkit';
import type { WalLogStore } from '../src/index.js';
import {
  appendFrameBytes,
  batch,
  corruption,
  entry,
  ExpectedLog,
  expectSameLog,
  flipByte,
  HEAD_BYTES,
  plain,
  randomSource,
  segmentFiles,
  segmentName,
  sequenceNames,
  walStores,
  type StoreOptions,
} from './wal-store-fixture.js';

/**
 * Behaviour of the WAL log store the storage conformance kit does not look at: reads from the
 * segment files, the ordering of inline and thread-pool writes, and the lifecycle. Segment files,
 * compaction and open: wal-log-store.test.ts.
 */

describe('WalLogStore', () => {
  const stores = walStores();
  const { storeOn, opened, reopened, appendOneByOne } = stores;
  let directory: string;
  beforeEach(() => {
    directory = stores.directory;
  });

  describe('reads from the segment files', () => {
    for (const cacheBytes of [0, 1000]) {
      it(`returns exact entries read back from the files (cacheBytes ${cacheBytes}), honouring maxBytes`, async () => {
        const options: StoreOptions = { segmentBytes: 8192, inlineSyncEntries: 1, cacheBytes };
        const store = await opened(directory, options);
        const expected = new ExpectedLog();
        for (let from = 1; from <= 60; from += 5) {
          const b = Array.from({ length: 5 }, (_, i) => entry(from + i, 1 + (from >> 4), 50 + (((from + i) * 37) % 400)));
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
      store: WalLogStore,
      expected: ExpectedLog,
      ops: number,
      random: (n: number) => number,
      sizes: () => number,
      oneCompactionInFlight = false,
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
      const outcome = await reading.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
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
