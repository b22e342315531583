import { expect } from 'chai';
import { open as openFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CorruptStorageError, type BackendOp, type BackendRange } from '@cairn/core';
import { MemoryBackend, TemporaryDirectories, SeededRandom } from '@cairn/core/testkit';
import { createLmdbStorage, MAX_BACKEND_KEY_BYTES, type LmdbStorage } from '../src/index.js';
import { ChildScript } from './child-script.js';
import { bytes, pairs, text } from './test-data.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const put = (key: string, value: string): BackendOp => ({ type: 'put', key: bytes(key), value: bytes(value) });
const del = (key: string): BackendOp => ({ type: 'del', key: bytes(key) });

describe('LmdbBackend', () => {
  const dirs = new TemporaryDirectories();
  let storage: LmdbStorage;
  let directory: string;

  beforeEach(async () => {
    directory = await dirs.make('backend');
    storage = createLmdbStorage(directory, { noSync: true });
    await storage.backend.open();
  });
  afterEach(async () => {
    await storage.backend.close();
    await dirs.removeAll();
  });

  it('reads its own writes at once, before and after they are committed', async () => {
    const b = storage.backend;
    await b.write([put('a', '1'), put('b', '2')]);
    expect(text(await b.get(bytes('a')))).to.equal('1');
    await turn();
    await turn();
    expect(text(await b.get(bytes('b')))).to.equal('2');
    await b.write([del('a'), put('b', '3')]);
    expect(await b.get(bytes('a'))).to.equal(undefined);
    expect(text(await b.get(bytes('b')))).to.equal('3');
    await b.flush();
    expect(await b.get(bytes('a'))).to.equal(undefined);
    expect(text(await b.get(bytes('b')))).to.equal('3');
  });

  it('copies what it is given: changing a buffer after write() changes nothing stored', async () => {
    const key = bytes('key');
    const value = bytes('value');
    await storage.backend.write([{ type: 'put', key, value }]);
    value.fill(0x21);
    key.fill(0x21);
    expect(text(await storage.backend.get(bytes('key')))).to.equal('value');
    await storage.backend.flush();
    expect(text(await storage.backend.get(bytes('key')))).to.equal('value');
  });

  it('refuses an empty or over-long key with RangeError and applies nothing of that batch', async () => {
    for (const bad of [new Uint8Array(0), new Uint8Array(MAX_BACKEND_KEY_BYTES + 1).fill(7)]) {
      let error: unknown;
      try {
        await storage.backend.write([put('x', '1'), { type: 'put', key: bad, value: bytes('v') }]);
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(RangeError);
    }
    expect(await storage.backend.get(bytes('x'))).to.equal(undefined);
    const longest = new Uint8Array(MAX_BACKEND_KEY_BYTES).fill(9);
    await storage.backend.write([{ type: 'put', key: longest, value: bytes('v') }]);
    await storage.backend.flush();
    expect(text(await storage.backend.get(longest))).to.equal('v');
  });

  it('ranges both ways, with bounds and limits, in unsigned byte order', async () => {
    const keys = ['\x00', 'a', 'a\x00', 'ab', 'b', '\x7f', '\x80', '\xff', '\xff\xff'];
    await storage.backend.write(keys.map((k) => put(k, `v${k}`)));
    await storage.backend.flush();
    const sorted = keys.slice().sort((x, y) => Buffer.compare(bytes(x), bytes(y)));
    expect((await pairs(storage.backend.range({}))).map(([k]) => k)).to.deep.equal(sorted);
    expect((await pairs(storage.backend.range({ reverse: true }))).map(([k]) => k)).to.deep.equal(sorted.slice().reverse());
    expect((await pairs(storage.backend.range({ gte: bytes('a'), lt: bytes('b') }))).map(([k]) => k)).to.deep.equal(['a', 'a\x00', 'ab']);
    expect((await pairs(storage.backend.range({ gte: bytes('a'), lt: bytes('b'), reverse: true }))).map(([k]) => k)).to.deep.equal(['ab', 'a\x00', 'a']);
    expect((await pairs(storage.backend.range({ gte: bytes('a'), reverse: true, limit: 2 }))).map(([k]) => k)).to.deep.equal(['\xff\xff', '\xff']);
    expect((await pairs(storage.backend.range({ lt: bytes('a'), limit: 1 }))).map(([k]) => k)).to.deep.equal(['\x00']);
    expect(await pairs(storage.backend.range({ gte: bytes('b'), lt: bytes('a') }))).to.deep.equal([]);
    expect(await pairs(storage.backend.range({ limit: 0 }))).to.deep.equal([]);
  });

  it('matches the memory backend over a seeded mix of writes, commits, flushes, views and ranges', async () => {
    const random = new SeededRandom(2024);
    const model = new MemoryBackend();
    await model.open();
    const b = storage.backend;
    const key = (): Uint8Array =>
      bytes(String.fromCharCode(...Array.from({ length: random.int(1, 4) }, () => random.pick([0, 1, 0x61, 0x62, 0x7f, 0x80, 0xff]))));
    const views: { lmdb: ReturnType<typeof b.readView>; memory: ReturnType<typeof model.readView> }[] = [];
    const compare = async (r: BackendRange, label: string): Promise<void> => {
      expect(await pairs(b.range(r)), label).to.deep.equal(await pairs(model.range(r)));
      for (const [i, v] of views.entries()) expect(await pairs(v.lmdb.range(r)), `${label} view ${i}`).to.deep.equal(await pairs(v.memory.range(r)));
    };
    for (let step = 0; step < 400; step++) {
      const ops: BackendOp[] = Array.from({ length: random.int(1, 6) }, () =>
        random.int(0, 4) === 0 ? { type: 'del', key: key() } : { type: 'put', key: key(), value: bytes(`s${step}-${random.int(0, 1000)}`) },
      );
      await b.write(ops);
      await model.write(ops);
      const action = random.int(0, 10);
      if (action === 0) await b.flush();
      else if (action <= 3) await turn();
      else if (action === 4 && views.length < 4) views.push({ lmdb: b.readView(), memory: model.readView() });
      else if (action === 5 && views.length > 0) {
        const v = views.splice(random.int(0, views.length), 1)[0]!;
        v.lmdb.release();
        v.memory.release();
      }
      const probe = key();
      expect(text(await b.get(probe)), `get at step ${step}`).to.equal(text(await model.get(probe)));
      if (step % 10 === 0) {
        const [lo, hi] = [key(), key()].sort(Buffer.compare);
        const r: BackendRange = {
          gte: random.int(0, 3) === 0 ? undefined : lo,
          lt: random.int(0, 3) === 0 ? undefined : hi,
          reverse: random.int(0, 2) === 0,
          limit: random.int(0, 3) === 0 ? random.int(1, 8) : undefined,
        };
        await compare(r, `range ${JSON.stringify({ ...r, gte: r.gte && text(r.gte), lt: r.lt && text(r.lt) })} at step ${step}`);
      }
    }
    for (const v of views) {
      v.lmdb.release();
      v.memory.release();
    }
  });

  it('a read view stays fixed while writes commit, and release() ends it', async () => {
    const b = storage.backend;
    await b.write([put('a', 'old'), put('b', 'old')]);
    await b.flush();
    await b.write([put('c', 'pending')]);
    const view = b.readView();
    await b.write([put('a', 'new'), del('b'), del('c'), put('d', 'new')]);
    await b.flush();
    await b.write([put('e', 'newer')]);
    expect(await pairs(view.range({}))).to.deep.equal([
      ['a', 'old'],
      ['b', 'old'],
      ['c', 'pending'],
    ]);
    expect(text(await view.get(bytes('a')))).to.equal('old');
    expect(await pairs(b.range({}))).to.deep.equal([
      ['a', 'new'],
      ['d', 'new'],
      ['e', 'newer'],
    ]);
    view.release();
    view.release();
    let error: unknown;
    try {
      await view.get(bytes('a'));
    } catch (err) {
      error = err;
    }
    expect(String(error)).to.match(/after release/);
  });

  it('a range abandoned part way releases its read transaction', async () => {
    const b = storage.backend;
    await b.write(Array.from({ length: 50 }, (_, i) => put(`k${String(i).padStart(2, '0')}`, 'v')));
    await b.flush();
    for (let round = 0; round < 300; round++) {
      for await (const _ of b.range({})) break;
    }
    // 300 leaked readers would exceed LMDB's reader table; defragment also waits for every lease.
    await b.defragment();
  });

  it('size() reports the file and the pages in use; defragment() gives free pages back and keeps every pair', async function () {
    this.timeout(60_000);
    const b = storage.backend;
    const big = Buffer.alloc(64 * 1024, 0x5a);
    for (let batch = 0; batch < 10; batch++) {
      await b.write(Array.from({ length: 20 }, (_, i) => ({ type: 'put' as const, key: bytes(`big-${batch}-${i}`), value: big })));
      await b.flush();
    }
    await b.write([put('keep', 'me')]);
    const full = await b.size();
    expect(full.total).to.be.greaterThan(10 * 20 * 64 * 1024);
    expect(full.inUse).to.be.at.most(full.total);
    for (let batch = 0; batch < 10; batch++) {
      await b.write(Array.from({ length: 20 }, (_, i) => del(`big-${batch}-${i}`)));
    }
    await b.flush();
    const emptied = await b.size();
    // LMDB does not shrink the file by itself: the freed pages wait on its free list.
    expect(emptied.total).to.be.at.least(full.total);
    expect(emptied.inUse).to.be.lessThan(full.total / 4);
    // Writes issued while it runs wait for it and then land.
    const during = b.defragment();
    await b.write([put('during', 'yes')]);
    await during;
    const compacted = await b.size();
    expect(compacted.total).to.be.lessThan(full.total / 4);
    expect(text(await b.get(bytes('keep')))).to.equal('me');
    expect(text(await b.get(bytes('during')))).to.equal('yes');
    await b.flush();
    await b.close();
    await b.open();
    expect(await pairs(b.range({}))).to.deep.equal([
      ['during', 'yes'],
      ['keep', 'me'],
    ]);
  });

  it('defragment() waits for an open read view, which keeps reading its moment', async () => {
    const b = storage.backend;
    await b.write([put('a', '1')]);
    await b.flush();
    const view = b.readView();
    let done = false;
    const defragmenting = b.defragment().then(() => {
      done = true;
    });
    await b.write([put('a', '2')]);
    await b.flush();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(done).to.equal(false);
    expect(text(await view.get(bytes('a')))).to.equal('1');
    view.release();
    await defragmenting;
    expect(text(await b.get(bytes('a')))).to.equal('2');
  });

  it('a read view taken while defragment() has the environment to itself starts once it is done', async () => {
    const b = storage.backend;
    await b.write([put('a', '1')]);
    await b.flush();
    const defragmenting = b.defragment();
    while (!storage.environment.gate.isClosed) await turn();
    const view = b.readView();
    const reading = view.get(bytes('a'));
    await defragmenting;
    expect(text(await reading)).to.equal('1');
    expect(await pairs(view.range({}))).to.deep.equal([['a', '1']]);
    view.release();
  });

  it('views left open when the backend closes end with a clear error and hold nothing up after it reopens', async () => {
    const b = storage.backend;
    await b.write([put('a', '1'), put('b', '2')]);
    const view = b.readView();
    const iteration = b.range({})[Symbol.asyncIterator]();
    expect((await iteration.next()).done).to.equal(false);
    await b.close();
    for (const read of [view.get(bytes('a')), iteration.next()]) {
      let error: unknown;
      try {
        await read;
      } catch (err) {
        error = err;
      }
      expect(String(error)).to.match(/read view: the backend at .*data\.mdb was closed/);
    }
    view.release();
    await b.open();
    // A lease left by the abandoned iteration would make this wait for ever.
    await b.defragment();
    expect(text(await b.get(bytes('b')))).to.equal('2');
  });

  it('refuses a pair whose stored bytes were damaged, naming data.mdb', async () => {
    const b = storage.backend;
    const marker = Buffer.from('DAMAGE-ME-'.repeat(20));
    await b.write([{ type: 'put', key: bytes('victim'), value: marker }, put('bystander', 'fine')]);
    await b.close();
    const file = join(directory, 'data.mdb');
    const at = (await readFile(file)).indexOf(marker);
    expect(at).to.be.greaterThan(0);
    const handle = await openFile(file, 'r+');
    await handle.write(Buffer.from('X'), 0, 1, at + 50);
    await handle.close();
    await b.open();
    expect(text(await b.get(bytes('bystander')))).to.equal('fine');
    let error: unknown;
    try {
      await b.get(bytes('victim'));
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(CorruptStorageError);
    expect((error as CorruptStorageError).file).to.equal(file);
    error = undefined;
    try {
      await pairs(b.range({}));
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(CorruptStorageError);
  });
});

describe('LmdbBackend durability', () => {
  const dirs = new TemporaryDirectories();
  const children: ChildScript[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill();
    await dirs.removeAll();
  });

  it('keeps every write that a resolved flush() covered when the process is killed with SIGKILL, and every batch whole', async function () {
    this.timeout(60_000);
    const directory = await dirs.make('backend-kill');
    const child = new ChildScript('backend-writer', [directory]);
    children.push(child);
    const line = await child.waitFor((l) => /^flushed (\d+)$/.test(l) && Number(l.split(' ')[1]) >= 40);
    child.kill();
    await child.exited;
    const flushedLines = child.lines.filter((l) => l.startsWith('flushed ')).map((l) => Number(l.split(' ')[1]));
    const flushed = Math.max(...flushedLines);
    expect(flushed).to.be.at.least(Number(line.split(' ')[1]));
    const storage = createLmdbStorage(directory);
    await storage.backend.open();
    try {
      const last = Number(text(await storage.backend.get(bytes('last'))));
      expect(last).to.be.at.least(flushed);
      // Each batch wrote `last` and its own key together: nothing half-applied.
      for (let n = 1; n <= last; n++) expect(text(await storage.backend.get(bytes(`batch-${n}`))), `batch ${n}`).to.equal(`value-${n}`);
      expect(await storage.backend.get(bytes(`batch-${last + 1}`))).to.equal(undefined);
    } finally {
      await storage.backend.close();
    }
  });
});
