import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { open as openFile, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CorruptStorageError, type SnapshotMeta } from '@cairn/core';
import { createLmdbStorage, type LmdbStorage } from '../src/index.js';
import { ChildScript } from './child-script.js';
import { collect, patternBytes, streamOf } from './test-data.js';
import { TemporaryDirectories, rejection } from '@cairn/core/testkit';

const meta = (index: number, term = 1): SnapshotMeta => ({ index, term, confState: { voters: ['000000000000000a'], learners: [] } });
const sha = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

async function shaOfStream(total: number, seed: number, piece?: number): Promise<string> {
  const hash = createHash('sha256');
  for await (const part of streamOf(total, seed, piece)) hash.update(part);
  return hash.digest('hex');
}

/** The files under snapshots/: what a leak of an abandoned save would show. */
const snapshotFiles = async (directory: string): Promise<string[]> => (await readdir(join(directory, 'snapshots'))).sort();

describe('LmdbSnapshotStore', () => {
  const dirs = new TemporaryDirectories();
  let directory: string;
  let storage: LmdbStorage;

  beforeEach(async () => {
    directory = await dirs.make('snapshots');
    storage = createLmdbStorage(directory, { noSync: true, snapshotChunkBytes: 64 * 1024 });
    await storage.snapshotStore.open();
  });
  afterEach(async () => {
    await storage.snapshotStore.close();
    await dirs.removeAll();
  });

  it('has no latest snapshot when fresh, and stores empty, small and odd-sized data exactly', async () => {
    const store = storage.snapshotStore;
    expect(await store.latest()).to.equal(undefined);
    for (const [index, size, piece] of [
      [1, 0, 1],
      [2, 5, 1],
      [3, 64 * 1024, 1000],
      [4, 200_001, 7777],
    ] as const) {
      await store.save(meta(index), streamOf(size, index, piece));
      const latest = await store.latest();
      expect(latest?.meta).to.deep.equal(meta(index));
      expect(latest?.size).to.equal(size);
      const data = await collect(latest!.read());
      expect(data.length).to.equal(size);
      expect(sha(data)).to.equal(await shaOfStream(size, index, piece));
      // Each read() starts over.
      expect(sha(await collect(latest!.read()))).to.equal(sha(data));
    }
  });

  it('streams a 40 MiB snapshot in and out, its data intact', async function () {
    this.timeout(120_000);
    const total = 40 * 1024 * 1024;
    const store = storage.snapshotStore;
    await store.save(meta(7), streamOf(total, 7));
    const latest = await store.latest();
    expect(latest?.size).to.equal(total);
    const hash = createHash('sha256');
    let read = 0;
    for await (const part of latest!.read()) {
      expect(part.byteLength).to.be.at.most(64 * 1024);
      hash.update(part);
      read += part.byteLength;
    }
    expect(read).to.equal(total);
    expect(hash.digest('hex')).to.equal(await shaOfStream(total, 7));
  });

  it('holds a few chunks in memory while a 40 MiB snapshot streams in or out, never the snapshot', async function () {
    this.timeout(120_000);
    const child = new ChildScript('snapshot-memory', [await dirs.make('snapshot-memory'), String(40 * 1024 * 1024)], { nodeArgs: ['--expose-gc'] });
    const exit = await child.exited;
    expect(exit.code, child.stderr).to.equal(0);
    for (const phase of ['save', 'read']) {
      const line = child.lines.find((l) => l.startsWith(`peak ${phase} `));
      const peak = Number(line?.split(' ')[2]);
      // 256 KiB chunks: a few in flight (measured 3-5 MiB with lmdb-js's buffers), far from the 40 MiB a whole snapshot takes.
      expect(peak, `live memory while ${phase === 'save' ? 'saving' : 'reading'}`).to.be.lessThan(16 * 1024 * 1024);
    }
  });

  it('keeps the most recently saved snapshots and their files; latest() is the last saved, whatever its index', async () => {
    const store = storage.snapshotStore;
    await store.save(meta(10), streamOf(150_000, 10));
    await store.save(meta(30), streamOf(150_000, 30));
    await store.save(meta(20), streamOf(150_000, 20));
    expect(store.list().map((m) => m.index)).to.deep.equal([20, 30]);
    expect((await store.latest())?.meta.index).to.equal(20);
    await store.save(meta(5), streamOf(150_000, 5));
    expect(store.list().map((m) => m.index)).to.deep.equal([5, 20]);
    await store.save(meta(30, 2), streamOf(1000, 31));
    expect(store.list()).to.deep.equal([meta(30, 2), meta(5)]);
    expect((await store.latest())?.meta).to.deep.equal(meta(30, 2));
    expect(await snapshotFiles(directory)).to.deep.equal(['4.snap', '5.snap']);
    await store.close();
    await store.open();
    expect(store.list()).to.deep.equal([meta(30, 2), meta(5)]);
  });

  it('concurrent saves rank by when their data ended, not by when they began', async () => {
    const store = storage.snapshotStore;
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* slow(): AsyncGenerator<Uint8Array> {
      yield patternBytes(1000, 1);
      await held;
      yield patternBytes(1000, 2);
    }
    const first = store.save(meta(100), slow());
    await store.save(meta(50), streamOf(1000, 50));
    release();
    await first;
    expect(store.list().map((m) => m.index)).to.deep.equal([100, 50]);
  });

  it('a save whose data fails leaves nothing behind and changes nothing', async () => {
    const store = storage.snapshotStore;
    await store.save(meta(10), streamOf(100_000, 10));
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield patternBytes(300_000, 1);
      throw new Error('the leader went away');
    }
    expect(String(await rejection(store.save(meta(20), broken())))).to.match(/leader went away/);
    expect((await store.latest())?.meta.index).to.equal(10);
    expect(await snapshotFiles(directory)).to.have.length(1);
  });

  it('latest() refuses a newest snapshot whose data was damaged, naming its file, instead of an older one', async () => {
    const store = storage.snapshotStore;
    await store.save(meta(10), streamOf(100_000, 10));
    const data = patternBytes(100_000, 99);
    await store.save(
      meta(20),
      (async function* () {
        yield data;
      })(),
    );
    await store.close();
    const file = join(directory, 'snapshots', '2.snap');
    const at = (await readFile(file)).indexOf(Buffer.from(data.subarray(5000, 5064)));
    expect(at).to.be.greaterThan(0);
    const handle = await openFile(file, 'r+');
    await handle.write(Buffer.of(data[5010]! ^ 0x40), 0, 1, at + 10);
    await handle.close();
    await store.open();
    const error = await rejection(store.latest());
    expect(error).to.be.instanceOf(CorruptStorageError);
    expect((error as CorruptStorageError).file).to.equal(file);
    expect(String(error)).to.match(/snapshot 1-20/);
  });

  it('a snapshot replaced while a reader holds it stays readable to that reader; a later read() says it is gone', async () => {
    const store = storage.snapshotStore;
    await store.save(meta(1), streamOf(300_000, 1));
    const first = (await store.latest())!;
    const reading = first.read()[Symbol.asyncIterator]();
    const head = await reading.next();
    expect(head.done).to.equal(false);
    await store.save(meta(2), streamOf(1000, 2));
    await store.save(meta(3), streamOf(1000, 3));
    const rest: Uint8Array[] = [head.value as Uint8Array];
    for (let r = await reading.next(); r.done !== true; r = await reading.next()) rest.push(r.value);
    expect(sha(Buffer.concat(rest))).to.equal(await shaOfStream(300_000, 1));
    expect(String(await rejection(collect(first.read())))).to.match(/no longer stored/);
  });
});

describe('LmdbSnapshotStore after a crash', () => {
  const dirs = new TemporaryDirectories();
  const children: ChildScript[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill();
    await dirs.removeAll();
  });

  it('a save cut short by SIGKILL is invisible, and its chunks are removed at the next open', async function () {
    this.timeout(60_000);
    const directory = await dirs.make('snapshot-kill');
    const child = new ChildScript('snapshot-writer', [directory]);
    children.push(child);
    await child.waitFor((l) => l === 'saved 10');
    await child.waitFor((l) => l === 'streaming 20');
    child.kill();
    await child.exited;
    const storage = createLmdbStorage(directory, { snapshotChunkBytes: 64 * 1024 });
    await storage.snapshotStore.open();
    try {
      const latest = await storage.snapshotStore.latest();
      expect(latest?.meta.index).to.equal(10);
      expect(sha(await collect(latest!.read()))).to.equal(await shaOfStream(500_000, 10));
      expect(await snapshotFiles(directory)).to.deep.equal(['1.snap']);
    } finally {
      await storage.snapshotStore.close();
    }
  });
});
