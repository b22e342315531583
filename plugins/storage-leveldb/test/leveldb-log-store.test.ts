import { expect } from 'chai';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CorruptStorageError, type Entry } from '@cairn/core';
import { createLevelDbStorage, storageLayout, type LevelDbLogStore } from '../src/index.js';
import { entries } from './sample-data.js';
import { TemporaryDirectories, rejection } from '@cairn/core/testkit';

const summary = (list: readonly Entry[]): string[] => list.map((e) => `${e.index}/${e.term}/${e.type}/${Buffer.from(e.data).toString('hex')}`);

describe('LevelDbLogStore', () => {
  const temporary = new TemporaryDirectories();
  let directory: string;
  let open: LevelDbLogStore[] = [];

  beforeEach(async () => {
    directory = await temporary.make('log');
  });

  afterEach(async () => {
    for (const store of open) await store.close();
    open = [];
    await temporary.removeAll();
  });

  async function openLog(): Promise<LevelDbLogStore> {
    const store = createLevelDbStorage(directory).logStore;
    await store.open();
    open.push(store);
    return store;
  }

  async function reopen(store: LevelDbLogStore): Promise<LevelDbLogStore> {
    await store.close();
    open = open.filter((s) => s !== store);
    return openLog();
  }

  it('starts empty: firstIndex 1, lastIndex 0, term(0) = 0', async () => {
    const log = await openLog();
    expect(log.firstIndex()).to.equal(1);
    expect(log.lastIndex()).to.equal(0);
    expect(await log.term(0)).to.equal(0);
    expect(await log.term(1)).to.equal(undefined);
    expect(await log.entries(1, 1)).to.deep.equal([]);
  });

  it('keeps appended entries, terms and types across a reopen', async () => {
    let log = await openLog();
    const written = [...entries(1, 100, 1), ...entries(101, 50, 2), ...entries(151, 10, 5)];
    await log.append(written.slice(0, 100));
    await log.append(written.slice(100));
    log = await reopen(log);
    expect(log.lastIndex()).to.equal(160);
    expect(summary(await log.entries(1, 161))).to.deep.equal(summary(written));
    expect(await log.term(100)).to.equal(1);
    expect(await log.term(101)).to.equal(2);
    expect(await log.term(160)).to.equal(5);
    expect(await log.term(161)).to.equal(undefined);
  });

  it('replaces a conflicting suffix, longer or shorter than the new batch', async () => {
    let log = await openLog();
    await log.append(entries(1, 20, 1));
    await log.append(entries(8, 3, 2));
    expect(log.lastIndex()).to.equal(10);
    log = await reopen(log);
    expect(log.lastIndex()).to.equal(10);
    expect(summary(await log.entries(1, 11))).to.deep.equal(summary([...entries(1, 7, 1), ...entries(8, 3, 2)]));
    await log.append(entries(10, 10, 3));
    log = await reopen(log);
    expect(log.lastIndex()).to.equal(19);
    expect(await log.term(9)).to.equal(2);
    expect(await log.term(10)).to.equal(3);
  });

  it('refuses gaps and appends below firstIndex with RangeError', async () => {
    const log = await openLog();
    await log.append(entries(1, 10, 1));
    expect(await rejection(log.append(entries(12, 1, 1)))).to.be.instanceOf(RangeError);
    await log.compactTo(5, 1);
    expect(await rejection(log.append(entries(5, 1, 1)))).to.be.instanceOf(RangeError);
    expect(await rejection(log.append([...entries(11, 1, 1), ...entries(13, 1, 1)]))).to.be.instanceOf(RangeError);
    expect(await rejection(log.entries(5, 8))).to.be.instanceOf(RangeError);
    expect(await rejection(log.entries(6, 12))).to.be.instanceOf(RangeError);
    expect(await rejection(log.truncateFrom(5))).to.be.instanceOf(RangeError);
    expect(log.lastIndex()).to.equal(10);
  });

  it('truncates durably', async () => {
    let log = await openLog();
    await log.append(entries(1, 30, 1));
    await log.truncateFrom(31);
    await log.truncateFrom(21);
    log = await reopen(log);
    expect(log.lastIndex()).to.equal(20);
    await log.truncateFrom(1);
    log = await reopen(log);
    expect(log.lastIndex()).to.equal(0);
    await log.append(entries(1, 2, 4));
    expect(await log.term(2)).to.equal(4);
  });

  it('compacts: the prefix goes, term(firstIndex - 1) stays; past lastIndex the log restarts after it', async () => {
    let log = await openLog();
    await log.append([...entries(1, 10, 1), ...entries(11, 10, 2)]);
    await log.compactTo(12, 2);
    log = await reopen(log);
    expect(log.firstIndex()).to.equal(13);
    expect(log.lastIndex()).to.equal(20);
    expect(await log.term(12)).to.equal(2);
    expect(await log.term(11)).to.equal(undefined);
    expect(summary(await log.entries(13, 21))).to.deep.equal(summary(entries(13, 8, 2)));
    await log.compactTo(100, 7);
    log = await reopen(log);
    expect([log.firstIndex(), log.lastIndex(), await log.term(100)]).to.deep.equal([101, 100, 7]);
    await log.append(entries(101, 3, 8));
    log = await reopen(log);
    expect(summary(await log.entries(101, 104))).to.deep.equal(summary(entries(101, 3, 8)));
  });

  it('stops entries() before maxBytes, returning at least one', async () => {
    const log = await openLog();
    await log.append(entries(1, 50, 1, 100));
    expect((await log.entries(1, 51, 1)).length).to.equal(1);
    expect((await log.entries(1, 51, 250)).length).to.equal(2);
    expect((await log.entries(1, 51, 300)).length).to.equal(3);
    expect((await log.entries(1, 51)).length).to.equal(50);
  });

  it('answers reads issued while writes are in flight with what was issued', async () => {
    const log = await openLog();
    void log.append(entries(1, 10, 1));
    const overwrite = log.append(entries(5, 2, 2));
    expect(log.lastIndex()).to.equal(6);
    expect(await log.term(5)).to.equal(2);
    expect(summary(await log.entries(1, 7))).to.deep.equal(summary([...entries(1, 4, 1), ...entries(5, 2, 2)]));
    await overwrite;
  });

  it('merges an append and the writes issued in the same turn into one LevelDB batch', async () => {
    const storage = createLevelDbStorage(directory);
    await storage.logStore.open();
    await storage.stableStore.open();
    try {
      // Both records land together or not at all; seen here as one WAL record holding both.
      await Promise.all([
        storage.logStore.append(entries(1, 64, 1, 256)),
        storage.stableStore.save({ hardState: { term: 1, vote: '', commit: 0 }, confState: { voters: ['a'], learners: [] }, clusterId: 'c', memberId: 'a' }),
      ]);
    } finally {
      await storage.stableStore.close();
      await storage.logStore.close();
    }
    const raft = storageLayout(directory).raft;
    const wal = (await readdir(raft)).filter((n) => n.endsWith('.log'));
    const log = await readFile(join(raft, wal[0]!));
    // A WriteBatch record: seq (8) | count (4) | ops. Format marker first (1 op), then one batch of 65.
    const counts: number[] = [];
    for (let at = 0; at + 7 <= log.length;) {
      const length = log.readUInt16LE(at + 4);
      if (log[at + 6] === 1 || log[at + 6] === 2) counts.push(log.readUInt32LE(at + 7 + 8));
      at += 7 + length;
      if (32768 - (at % 32768) < 7) at += 32768 - (at % 32768);
    }
    expect(counts).to.deep.equal([1, 65]);
  });

  it('refuses, naming the file, a write-ahead log with a damaged record that LevelDB would drop', async () => {
    const log = await openLog();
    for (let i = 0; i < 20; i++) await log.append(entries(i * 10 + 1, 10, 1));
    await log.close();
    open = [];
    const raft = storageLayout(directory).raft;
    const wal = (await readdir(raft)).find((n) => n.endsWith('.log'))!;
    const bytes = await readFile(join(raft, wal));
    bytes[Math.floor(bytes.length / 2)] ^= 0x20;
    await writeFile(join(raft, wal), bytes);
    const err = await rejection(createLevelDbStorage(directory).logStore.open());
    expect(err).to.be.instanceOf(CorruptStorageError);
    expect(err.message).to.contain(join(raft, wal));
    // And it stays refused: the log was not replayed and deleted behind our back.
    expect(await rejection(createLevelDbStorage(directory).logStore.open())).to.be.instanceOf(CorruptStorageError);
  });

  it('refuses a damaged entry in a table, naming the directory', async () => {
    let log = await openLog();
    await log.append(entries(1, 200, 1, 300));
    log = await reopen(log); // recovery moves the write-ahead log into a table
    await log.close();
    open = [];
    const raft = storageLayout(directory).raft;
    const table = (await readdir(raft)).find((n) => n.endsWith('.ldb'));
    expect(table, 'a table after reopen').to.be.a('string');
    const bytes = await readFile(join(raft, table!));
    // Entry data (300 bytes of one value each) sits in the first data block, uncompressed or not.
    bytes[1000] ^= 0x01;
    await writeFile(join(raft, table!), bytes);
    const err = await rejection(createLevelDbStorage(directory).logStore.open());
    expect(err).to.be.instanceOf(CorruptStorageError);
    expect(err.message).to.contain(directory);
  });
});
