import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CorruptStorageError } from '@cairn/core';
import { createLmdbStorage, type LmdbStorage } from '../src/index.js';
import { ChildScript } from './child-script.js';
import { entries } from './test-data.js';
import { TemporaryDirectories, rejection } from '@cairn/core/testkit';

function findStrace(): string | undefined {
  try {
    execFileSync('strace', ['-V'], { stdio: 'ignore' });
    return 'strace';
  } catch {
    return undefined;
  }
}

describe('LmdbLogStore', () => {
  const dirs = new TemporaryDirectories();
  let directory: string;
  let storage: LmdbStorage;

  beforeEach(async () => {
    directory = await dirs.make('log');
    storage = createLmdbStorage(directory, { noSync: true });
    await storage.logStore.open();
  });
  afterEach(async () => {
    await storage.logStore.close();
    await dirs.removeAll();
  });

  it('reads what was appended before the append resolved, and keeps indexes in memory', async () => {
    const log = storage.logStore;
    const first = log.append(entries(1, 10, 1));
    const second = log.append(entries(11, 10, 2));
    expect(log.lastIndex()).to.equal(20);
    expect(await log.term(15)).to.equal(2);
    expect((await log.entries(5, 21)).map((e) => e.index)).to.deep.equal(Array.from({ length: 16 }, (_, i) => 5 + i));
    const replacing = log.append(entries(8, 2, 3));
    expect(log.lastIndex()).to.equal(9);
    expect(await log.term(9)).to.equal(3);
    expect((await log.entries(7, 10)).map((e) => e.term)).to.deep.equal([1, 3, 3]);
    await Promise.all([first, second, replacing]);
    const compacting = log.compactTo(5, 1);
    expect(log.firstIndex()).to.equal(6);
    expect(await log.term(5)).to.equal(1);
    expect(await log.term(4)).to.equal(undefined);
    await compacting;
  });

  it('appends issued while a defragment holds the environment land after it, in order', async () => {
    const log = storage.logStore;
    await log.append(entries(1, 100, 1, 2000));
    await log.compactTo(90, 1);
    const defragmenting = storage.environment.defragment();
    while (!storage.environment.gate.isClosed) await new Promise((resolve) => setImmediate(resolve));
    const appends = [log.append(entries(101, 5, 2)), log.append(entries(106, 5, 2)), log.append(entries(104, 3, 3))];
    expect(log.lastIndex()).to.equal(106);
    await defragmenting;
    await Promise.all(appends);
    await log.close();
    await log.open();
    expect([log.firstIndex(), log.lastIndex()]).to.deep.equal([91, 106]);
    expect((await log.entries(91, 107)).map((e) => `${e.index}/${e.term}`)).to.deep.equal([
      ...Array.from({ length: 10 }, (_, i) => `${91 + i}/1`),
      '101/2',
      '102/2',
      '103/2',
      '104/3',
      '105/3',
      '106/3',
    ]);
  });

  it('refuses to open a log with an entry missing in the middle, naming data.mdb', async () => {
    await storage.logStore.append(entries(1, 30, 1));
    await storage.logStore.close();
    const other = createLmdbStorage(directory, { noSync: true });
    await other.environment.acquire();
    await other.environment.write((dbs) => {
      void dbs.raftLog.remove(17);
    }).durable;
    await other.environment.release();
    const error = await rejection(storage.logStore.open());
    expect(error).to.be.instanceOf(CorruptStorageError);
    expect(String(error))
      .to.contain(join(directory, 'data.mdb'))
      .and.to.match(/expected index 17, found key 18/);
    await other.environment.acquire();
    await other.environment.write((dbs) => {
      void dbs.raftLog.put(17, new Uint8Array(3));
    }).durable;
    await other.environment.release();
    await storage.logStore.open();
    const damaged = await rejection(storage.logStore.entries(15, 20));
    expect(damaged).to.be.instanceOf(CorruptStorageError);
    expect(String(damaged)).to.match(/log entry record of 3 bytes is torn/);
  });

  it('keeps entries whose data is larger than a page, whole, with one copy per read', async () => {
    const big = entries(1, 3, 1, 3 * 1024 * 1024);
    await storage.logStore.append(big);
    const read = await storage.logStore.entries(1, 4);
    for (const [i, e] of read.entries()) expect(Buffer.compare(Buffer.from(e.data), Buffer.from(big[i]!.data))).to.equal(0);
    // Each entry owns its data: reading more does not change what was returned.
    const before = Buffer.from(read[0]!.data).toString('hex', 0, 32);
    await storage.logStore.entries(2, 4);
    expect(Buffer.from(read[0]!.data).toString('hex', 0, 32)).to.equal(before);
  });
});

describe('LmdbLogStore syncs', () => {
  const dirs = new TemporaryDirectories();
  const children: ChildScript[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill();
    await dirs.removeAll();
  });

  it('syncs once per appended batch, and a stable save of the same turn shares that sync (strace)', async function () {
    this.timeout(60_000);
    if (findStrace() === undefined) {
      console.log('      skipped: strace is not installed');
      this.skip();
    }
    const directory = await dirs.make('log-syncs');
    const trace = join(directory, '..', `${directory.split('/').pop()}.trace`);
    const batches = 40;
    const child = new ChildScript('log-appender', [directory, String(batches), '64', '256'], {
      wrapper: ['strace', '-f', '-y', '-o', trace, '-e', 'trace=write,fsync,fdatasync,msync,sync_file_range'],
    });
    children.push(child);
    const exit = await child.exited;
    expect(exit.code, child.stderr).to.equal(0);
    const lines = (await readFile(trace, 'utf8')).split('\n');
    const from = lines.findIndex((l) => l.includes('write(1') && l.includes('ready'));
    const to = lines.findIndex((l) => l.includes('write(1') && l.includes('done'));
    expect(from).to.be.greaterThan(-1);
    expect(to).to.be.greaterThan(from);
    const syncs = lines.slice(from, to).filter((l) => /\b(fsync|fdatasync|msync)\(/.test(l) && !/= -1/.test(l));
    expect(
      syncs.every((l) => l.includes('data.mdb')),
      syncs.join('\n'),
    ).to.equal(true);
    // One per batch; the 20 stable saves added none.
    expect(syncs.length, `${syncs.length} syncs for ${batches} batches`).to.equal(batches);
    await rm(trace, { force: true });
  });
});
