import { expect } from 'chai';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CorruptStorageError, type SnapshotMeta } from '@cairn/core';
import { createLevelDbStorage, storageLayout, type LevelDbSnapshotStore } from '../src/index.js';
import { TemporaryDirectories } from '@cairn/core/testkit';

const meta = (index: number, term = 1): SnapshotMeta => ({ index, term, confState: { voters: ['a', 'b'], learners: [] } });

/** `count` chunks of `bytes`, each filled from a seeded byte pattern, generated as they are read. */
async function* stream(count: number, bytes: number, seed: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < count; i++) {
    const chunk = Buffer.allocUnsafe(bytes);
    for (let j = 0; j < bytes; j += 4) chunk.writeUInt32BE(((seed * 2654435761) ^ (i * 40503 + j)) >>> 0, j);
    yield chunk;
  }
}

async function digest(data: AsyncIterable<Uint8Array>): Promise<string> {
  const { createHash } = await import('node:crypto');
  const hash = createHash('sha256');
  for await (const chunk of data) hash.update(chunk);
  return hash.digest('hex');
}

describe('LevelDbSnapshotStore', () => {
  const temporary = new TemporaryDirectories();
  let directory: string;
  let stores: LevelDbSnapshotStore[] = [];

  beforeEach(async () => {
    directory = await temporary.make('snap');
  });

  afterEach(async () => {
    for (const s of stores) await s.close();
    stores = [];
    await temporary.removeAll();
  });

  async function openStore(retainSnapshots = 2): Promise<LevelDbSnapshotStore> {
    const store = createLevelDbStorage(directory, { retainSnapshots, snapshotChunkBytes: 64 * 1024 }).snapshotStore;
    await store.open();
    stores.push(store);
    return store;
  }

  it('has no latest when fresh', async () => {
    const store = await openStore();
    expect(await store.latest()).to.equal(undefined);
  });

  it('streams 48 MiB in and out in chunks, intact, across a reopen', async function () {
    this.timeout(120_000);
    let store = await openStore();
    await store.save(meta(1000, 3), stream(768, 64 * 1024, 7));
    const expected = await digest(stream(768, 64 * 1024, 7));
    await store.close();
    stores = [];
    store = await openStore();
    const latest = await store.latest();
    expect(latest!.meta).to.deep.equal(meta(1000, 3));
    expect(latest!.size).to.equal(48 * 1024 * 1024);
    let largest = 0;
    let chunks = 0;
    const measured = async function* (): AsyncGenerator<Uint8Array> {
      for await (const chunk of latest!.read()) {
        largest = Math.max(largest, chunk.byteLength);
        chunks++;
        yield chunk;
      }
    };
    expect(await digest(measured())).to.equal(expected);
    expect(largest).to.be.at.most(64 * 1024);
    expect(chunks).to.equal(768);
    // Each read() starts over.
    expect(await digest(latest!.read())).to.equal(expected);
  });

  it('makes the most recently saved latest, whatever its index, and keeps only the N most recent', async () => {
    const store = await openStore(2);
    await store.save(meta(10), stream(1, 100, 1));
    await store.save(meta(30), stream(1, 100, 2));
    await store.save(meta(20), stream(1, 100, 3));
    expect(store.list().map((m) => m.index)).to.deep.equal([20, 30]);
    expect((await store.latest())!.meta.index).to.equal(20);
    await store.save(meta(30, 2), stream(1, 100, 4));
    expect((await store.latest())!.meta.term).to.equal(2);
    expect(await digest((await store.latest())!.read())).to.equal(await digest(stream(1, 100, 4)));
    const files = await readdir(storageLayout(directory).snapshots);
    expect(files).to.have.length(2);
  });

  it('leaves nothing of a save whose data stream fails, and keeps the previous latest', async () => {
    const store = await openStore();
    await store.save(meta(5), stream(2, 1000, 1));
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield* stream(3, 1000, 2);
      throw new Error('source went away');
    }
    let error: unknown;
    await store.save(meta(9), broken()).catch((err: unknown) => {
      error = err;
    });
    expect(String(error)).to.contain('source went away');
    expect((await store.latest())!.meta.index).to.equal(5);
    expect(await readdir(storageLayout(directory).snapshots)).to.have.length(1);
  });

  it('removes on open the files of saves a crash interrupted', async () => {
    let store = await openStore();
    await store.save(meta(5), stream(1, 1000, 1));
    await store.close();
    stores = [];
    const snapshots = storageLayout(directory).snapshots;
    await writeFile(join(snapshots, '00000000000000ff.tmp'), 'half written');
    await writeFile(join(snapshots, '0000000000000009-00000000000000aa.snap'), 'renamed, never committed');
    store = await openStore();
    expect(await readdir(snapshots)).to.have.length(1);
    expect((await store.latest())!.meta.index).to.equal(5);
  });

  it('refuses, naming the file, a latest snapshot whose data was damaged or lost', async () => {
    const store = await openStore();
    await store.save(meta(5), stream(4, 1000, 1));
    const snapshots = storageLayout(directory).snapshots;
    const [name] = await readdir(snapshots);
    const path = join(snapshots, name!);
    const bytes = await readFile(path);
    bytes[1234] ^= 0x04;
    await writeFile(path, bytes);
    let error: Error | undefined;
    await store.latest().catch((err: Error) => {
      error = err;
    });
    expect(error).to.be.instanceOf(CorruptStorageError);
    expect(error!.message).to.contain(path);
    await writeFile(path, bytes.subarray(0, 2000));
    error = undefined;
    await store.latest().catch((err: Error) => {
      error = err;
    });
    expect(error).to.be.instanceOf(CorruptStorageError);
    expect(error!.message).to.contain(path);
  });

  it('keeps a dropped snapshot readable until its reader is done', async () => {
    const store = await openStore(1);
    await store.save(meta(5), stream(8, 1000, 1));
    const old = (await store.latest())!;
    const reading = old.read()[Symbol.asyncIterator]();
    const first = await reading.next();
    await store.save(meta(6), stream(1, 1000, 2));
    const rest: Uint8Array[] = [first.value as Uint8Array];
    for (let r = await reading.next(); r.done !== true; r = await reading.next()) rest.push(r.value);
    expect(Buffer.concat(rest).length).to.equal(8000);
    expect(await readdir(storageLayout(directory).snapshots)).to.have.length(1);
  });
});
