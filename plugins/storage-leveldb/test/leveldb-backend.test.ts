import { expect } from 'chai';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CorruptStorageError, type BackendRange } from '@cairn/core';
import { createLevelDbStorage, storageLayout, type LevelDbBackend } from '../src/index.js';
import { bytes, text } from './sample-data.js';
import { TemporaryDirectories } from '@cairn/core/testkit';

async function collect(pairs: AsyncIterable<[Uint8Array, Uint8Array]>): Promise<string[]> {
  const out: string[] = [];
  for await (const [k, v] of pairs) out.push(`${Buffer.from(k).toString('hex')}=${text(v)}`);
  return out;
}

describe('LevelDbBackend', () => {
  const temporary = new TemporaryDirectories();
  let directory: string;
  let backends: LevelDbBackend[] = [];

  beforeEach(async () => {
    directory = await temporary.make('backend');
  });

  afterEach(async () => {
    for (const b of backends) await b.close();
    backends = [];
    await temporary.removeAll();
  });

  async function openBackend(): Promise<LevelDbBackend> {
    const backend = createLevelDbStorage(directory).backend;
    await backend.open();
    backends.push(backend);
    return backend;
  }

  const keys = [
    Uint8Array.of(),
    Uint8Array.of(0x00),
    Uint8Array.of(0x00, 0x00),
    Uint8Array.of(0x01),
    Uint8Array.of(0x7f),
    Uint8Array.of(0x80),
    Uint8Array.of(0xff),
    Uint8Array.of(0xff, 0xff),
  ];

  it('ranges in unsigned byte order both ways, with bounds and limits', async () => {
    const backend = await openBackend();
    await backend.write([...keys].reverse().map((key, i) => ({ type: 'put' as const, key, value: bytes(`v${i}`) })));
    const all = await collect(backend.range({}));
    expect(all.map((p) => p.split('=')[0])).to.deep.equal(keys.map((k) => Buffer.from(k).toString('hex')));
    const cases: [BackendRange, number[]][] = [
      [{ gte: Uint8Array.of(0x00), lt: Uint8Array.of(0x80) }, [1, 2, 3, 4]],
      [{ gte: Uint8Array.of(0x7f), reverse: true }, [7, 6, 5, 4]],
      [{ lt: Uint8Array.of(0x01), reverse: true, limit: 2 }, [2, 1]],
      [{ gte: Uint8Array.of(0x80), limit: 0 }, []],
      [{ gte: Uint8Array.of(0xff), lt: Uint8Array.of(0xff) }, []],
    ];
    for (const [range, expected] of cases) expect(await collect(backend.range(range)), JSON.stringify(range)).to.deep.equal(expected.map((i) => all[i]));
  });

  it('applies a batch atomically and in order, and reads see it once it resolved', async () => {
    const backend = await openBackend();
    await backend.write([
      { type: 'put', key: bytes('a'), value: bytes('1') },
      { type: 'put', key: bytes('a'), value: bytes('2') },
      { type: 'put', key: bytes('b'), value: bytes('x') },
      { type: 'del', key: bytes('b') },
      { type: 'del', key: bytes('never') },
    ]);
    expect(text(await backend.get(bytes('a')))).to.equal('2');
    expect(await backend.get(bytes('b'))).to.equal(undefined);
  });

  it('keeps empty values, also views of an ArrayBuffer with no storage', async () => {
    const backend = await openBackend();
    // zlib.crc32(new Uint8Array(new ArrayBuffer(0)), crc) answers 0 instead of crc.
    await backend.write([
      { type: 'put', key: Uint8Array.of(0), value: new Uint8Array(new ArrayBuffer(0)) },
      { type: 'put', key: Uint8Array.of(1), value: Buffer.alloc(0) },
    ]);
    expect(await collect(backend.range({}))).to.deep.equal(['00=', '01=']);
    expect(await backend.get(Uint8Array.of(0))).to.have.length(0);
  });

  it('keeps flushed writes across a reopen', async () => {
    let backend = await openBackend();
    for (let i = 0; i < 100; i++) await backend.write([{ type: 'put', key: bytes(`k${i}`), value: bytes(`v${i}`) }]);
    await backend.flush();
    await backend.close();
    backends = [];
    backend = await openBackend();
    expect(text(await backend.get(bytes('k99')))).to.equal('v99');
    expect(await collect(backend.range({}))).to.have.length(100);
  });

  it('gives read views that do not move while writes go on', async () => {
    const backend = await openBackend();
    await backend.write([
      { type: 'put', key: bytes('a'), value: bytes('old') },
      { type: 'put', key: bytes('b'), value: bytes('old') },
    ]);
    const view = backend.readView();
    await backend.write([
      { type: 'put', key: bytes('a'), value: bytes('new') },
      { type: 'del', key: bytes('b') },
      { type: 'put', key: bytes('c'), value: bytes('new') },
    ]);
    expect(text(await view.get(bytes('a')))).to.equal('old');
    expect(await collect(view.range({}))).to.deep.equal(['61=old', '62=old']);
    expect(await collect(backend.range({}))).to.deep.equal(['61=new', '63=new']);
    view.release();
    view.release();
  });

  it('reports its size and gives space back on defragment', async function () {
    this.timeout(60_000);
    const backend = await openBackend();
    const value = Buffer.alloc(1000, 7);
    for (let round = 0; round < 4; round++) {
      const ops = Array.from({ length: 2000 }, (_, i) => ({
        type: 'put' as const,
        key: bytes(`key-${i}`),
        value: Buffer.concat([value, Buffer.from([round])]),
      }));
      await backend.write(ops);
    }
    await backend.write(Array.from({ length: 1500 }, (_, i) => ({ type: 'del' as const, key: bytes(`key-${i}`) })));
    const before = await backend.size();
    expect(before.total).to.be.greaterThan(0);
    expect(before.inUse).to.be.at.most(before.total);
    await backend.defragment();
    const after = await backend.size();
    expect(after.total).to.be.lessThan(before.total);
    expect(after.inUse).to.be.at.most(after.total);
    expect(await collect(backend.range({}))).to.have.length(500);
  });

  it('refuses a value damaged on disk instead of returning it', async () => {
    let backend = await openBackend();
    // Incompressible values, so a flipped byte lands in a value LevelDB hands back as it is.
    const { randomBytes } = await import('node:crypto');
    await backend.write(Array.from({ length: 50 }, (_, i) => ({ type: 'put' as const, key: bytes(`k${i}`), value: randomBytes(400) })));
    await backend.flush();
    await backend.close();
    backends = [];
    backend = await openBackend(); // the WAL becomes a table
    await backend.close();
    backends = [];
    const location = storageLayout(directory).backend;
    const table = (await readdir(location)).find((n) => n.endsWith('.ldb'))!;
    const data = await readFile(join(location, table));
    data[5000] ^= 0x10;
    await writeFile(join(location, table), data);
    let error: unknown;
    await createLevelDbStorage(directory)
      .backend.open()
      .catch((err: unknown) => {
        error = err;
      });
    expect(error, 'the table check on open').to.be.instanceOf(CorruptStorageError);
    expect(String(error)).to.contain(join(location, table));
    // Without the table check, the value's own checksum refuses it when read.
    backend = createLevelDbStorage(directory, { verifyTablesOnOpen: false }).backend;
    await backend.open();
    backends.push(backend);
    error = undefined;
    try {
      await collect(backend.range({}));
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(CorruptStorageError);
    expect(String(error)).to.contain(location);
  });
});
