import { expect } from 'chai';
import { closeSync, openSync, readdirSync, readSync, writeSync } from 'node:fs';
import { CorruptStorageError, EntryType, type Entry } from '@cairn/core';
import { rejection, TemporaryDirectories } from '@cairn/core/testkit';
import { createWalLogStore, type WalLogStore, type WalPluginOptions } from '../src/index.js';

/** What the WAL log store tests share: the file layout, entries and the expected log, file helpers, the stores of a suite. */

export type StoreOptions = Omit<WalPluginOptions, 'directory'>;

/** Layout of the files, as src/wal-frame.ts defines it (computed here so a change of format shows). */
export const HEAD_BYTES = 12 + 1 + 8 + 1 + 24;
/** One frame appending one entry of `size` data bytes: frame header, kind/first/count, record length, entry record. */
export const appendFrameBytes = (count: number, size: number): number => 12 + 13 + count * (4 + 21 + size);
export const COMPACT_FRAME_BYTES = 12 + 17;
const SEGMENT = /^[0-9a-f]{16}\.wal$/;
export const segmentName = (sequence: number): string => `${sequence.toString(16).padStart(16, '0')}.wal`;

/** Deterministic data for entry `index` of `term`, `size` bytes (xorshift seeded from both). */
function dataFor(index: number, term: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = ((index * 2654435761) ^ (term * 40503)) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export function entry(index: number, term: number, size = 300): Entry {
  return { index, term, type: index % 7 === 0 ? EntryType.ConfChange : EntryType.Normal, data: dataFor(index, term, size) };
}

export function batch(from: number, count: number, term: number, size = 300): Entry[] {
  return Array.from({ length: count }, (_, i) => entry(from + i, term, size));
}

/** An entry as comparable plain data: the bytes as hex. */
export const plain = (e: Entry): { index: number; term: number; type: EntryType; data: string } => ({
  index: e.index,
  term: e.term,
  type: e.type,
  data: Buffer.from(e.data).toString('hex'),
});

/** What the log should hold: the reference the store is compared with. */
export class ExpectedLog {
  offset = 0;
  offsetTerm = 0;
  readonly entries: Entry[] = [];

  get first(): number {
    return this.offset + 1;
  }
  get last(): number {
    return this.offset + this.entries.length;
  }

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
export async function expectSameLog(store: WalLogStore, expected: ExpectedLog): Promise<void> {
  expect([store.firstIndex(), store.lastIndex()], 'firstIndex, lastIndex').to.deep.equal([expected.first, expected.last]);
  expect(await store.term(expected.offset), `term(${expected.offset})`).to.equal(expected.offsetTerm);
  expect(await store.term(expected.offset - 1), `term(${expected.offset - 1})`).to.equal(undefined);
  expect(await store.term(expected.last + 1), `term(${expected.last + 1})`).to.equal(undefined);
  const terms: (number | undefined)[] = [];
  for (let i = expected.first; i <= expected.last; i++) terms.push(await store.term(i));
  expect(terms, 'terms').to.deep.equal(expected.entries.map((e) => e.term));
  const got = await store.entries(expected.first, expected.last + 1);
  expect(
    got.map((e) => e.index),
    'indexes read',
  ).to.deep.equal(expected.entries.map((e) => e.index));
  expect(got.map(plain), 'entries read').to.deep.equal(expected.entries.map(plain));
}

export function segmentFiles(directory: string): string[] {
  return readdirSync(directory)
    .filter((name) => SEGMENT.test(name))
    .sort();
}

export const sequenceNames = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => segmentName(from + i));

/** The CorruptStorageError `promise` rejects with, checked to name `file`. */
export async function corruption(promise: Promise<unknown>, file: string): Promise<CorruptStorageError> {
  const err = await rejection(promise);
  expect(err, String(err)).to.be.instanceOf(CorruptStorageError);
  const corrupt = err as CorruptStorageError;
  expect(corrupt.file).to.equal(file);
  expect(corrupt.message).to.contain(file);
  return corrupt;
}

export function flipByte(file: string, position: number): void {
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
export function randomSource(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n: number): number => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

/** 300-byte entries in 8 KiB segments: 23 one-entry frames after the head fill a segment. */
const SMALL_SEGMENTS: StoreOptions = { segmentBytes: 8192, inlineSyncEntries: 1, cacheBytes: 1 << 20 };
export const PER_SEGMENT = Math.floor((8192 - HEAD_BYTES) / appendFrameBytes(1, 300));

/** The stores of one suite: a fresh directory per test; after it, every store closed and the directories removed. */
export interface WalStores {
  /** The directory of the running test (made before each test). */
  readonly directory: string;
  /** A store on `dir`, closed after the test. */
  storeOn(dir: string, options?: StoreOptions): WalLogStore;
  opened(dir: string, options?: StoreOptions): Promise<WalLogStore>;
  /** Close `store` and open the directory again with a new store object. */
  reopened(store: WalLogStore, options?: StoreOptions): Promise<WalLogStore>;
  /** Append one entry per call, awaiting each: one frame per entry. */
  appendOneByOne(store: WalLogStore, expected: ExpectedLog, from: number, count: number, term: number, size?: number): Promise<void>;
}

/** Registers the hooks of a suite's stores; call inside `describe`. */
export function walStores(): WalStores {
  const dirs = new TemporaryDirectories('cairn-wal');
  const stores: WalLogStore[] = [];
  let directory: string | undefined;

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
  const reopened = async (store: WalLogStore, options: StoreOptions = SMALL_SEGMENTS): Promise<WalLogStore> => {
    await store.close();
    return opened(store.directory, options);
  };
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
  return {
    get directory(): string {
      if (directory === undefined) throw new Error('walStores: no test is running');
      return directory;
    },
    storeOn,
    opened,
    reopened,
    appendOneByOne,
  };
}
