import { expect } from 'chai';
import { copyFile, open as openFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { open as openLmdb } from 'lmdb';
import { CorruptStorageError, sealRecord } from '@cairn/core';
import { createLmdbStorage, LMDB_DEFAULTS, LmdbEnvironment } from '../src/index.js';
import { bytes, entries, stableState, text } from './test-data.js';
import { TemporaryDirectories, rejection } from '@cairn/core/testkit';

/** A store with something in every port, closed. */
async function populated(directory: string): Promise<void> {
  const s = createLmdbStorage(directory, { noSync: true });
  await Promise.all([s.logStore.open(), s.stableStore.open(), s.snapshotStore.open(), s.backend.open()]);
  await s.logStore.append(entries(1, 200, 1, 1000));
  await s.stableStore.save(stableState(2));
  await s.snapshotStore.save(
    { index: 50, term: 1, confState: { voters: ['a'], learners: [] } },
    (async function* () {
      yield new Uint8Array(300_000).fill(3);
    })(),
  );
  await s.backend.write(Array.from({ length: 300 }, (_, i) => ({ type: 'put' as const, key: bytes(`key-${i}`), value: new Uint8Array(500).fill(i) })));
  await Promise.all([s.logStore.close(), s.stableStore.close(), s.snapshotStore.close(), s.backend.close()]);
}

describe('LmdbEnvironment', () => {
  const dirs = new TemporaryDirectories();
  afterEach(() => dirs.removeAll());

  it('is shared by the ports: open while any port is, closed by the last', async () => {
    const directory = await dirs.make('env');
    const s = createLmdbStorage(directory, { noSync: true });
    await s.logStore.open();
    await s.backend.open();
    await s.logStore.append(entries(1, 3, 1));
    await s.backend.write([{ type: 'put', key: bytes('k'), value: bytes('v') }]);
    await s.logStore.close();
    expect(s.environment.isOpen).to.equal(true);
    expect(text(await s.backend.get(bytes('k')))).to.equal('v');
    await s.backend.close();
    await s.backend.close();
    expect(s.environment.isOpen).to.equal(false);
    await s.stableStore.open();
    await s.logStore.open();
    expect(s.logStore.lastIndex()).to.equal(3);
    await Promise.all([s.stableStore.close(), s.logStore.close()]);
  });

  it('refuses a second environment on the same directory in this process', async () => {
    const directory = await dirs.make('env-twice');
    const a = createLmdbStorage(directory, { noSync: true });
    const b = createLmdbStorage(directory, { noSync: true });
    await a.logStore.open();
    expect(String(await rejection(b.logStore.open()))).to.match(/already open in this process/);
    await a.logStore.close();
    await b.logStore.open();
    await b.logStore.close();
  });

  it('refuses a file that is not LMDB, naming it, instead of crashing', async () => {
    for (const garbage of [Buffer.alloc(20_000, 0x41), Buffer.alloc(10, 0), Buffer.from('{"not":"lmdb"}')]) {
      const directory = await dirs.make('env-garbage');
      await writeFile(join(directory, 'data.mdb'), garbage);
      const error = await rejection(createLmdbStorage(directory).stableStore.open());
      expect(error).to.be.instanceOf(CorruptStorageError);
      expect((error as CorruptStorageError).file).to.equal(join(directory, 'data.mdb'));
    }
  });

  it('refuses an LMDB environment of another program, and one of a future format version', async () => {
    const foreign = await dirs.make('env-foreign');
    const env = openLmdb({ path: foreign, maxDbs: 4 });
    await env.openDB({ name: 'users' }).put('alice', { admin: true });
    await env.close();
    const error = await rejection(createLmdbStorage(foreign).backend.open());
    expect(error).to.be.instanceOf(CorruptStorageError);
    expect(String(error)).to.match(/not a Cairn store/);

    const future = await dirs.make('env-future');
    await populated(future);
    const raw = openLmdb({ path: future, maxDbs: 8, encoding: 'binary' });
    await raw.put('cairn-storage-lmdb-format', sealRecord(Buffer.from(JSON.stringify({ store: 'cairn-storage-lmdb', version: 9 }))));
    await raw.close();
    expect(String(await rejection(createLmdbStorage(future).logStore.open()))).to.match(/format version 9; this build reads version 1/);
  });

  it('refuses a data.mdb cut short, whether or not the cut falls on a page boundary', async function () {
    this.timeout(60_000);
    const directory = await dirs.make('env-cut');
    await populated(directory);
    const file = join(directory, 'data.mdb');
    const { size } = await stat(file);
    for (const length of [size - 1000, Math.floor(size / 2 / 4096) * 4096, 3 * 4096]) {
      const copy = await dirs.make('env-cut-copy');
      await copyFile(file, join(copy, 'data.mdb'));
      await truncate(join(copy, 'data.mdb'), length);
      const s = createLmdbStorage(copy);
      // Both ports try (and both are refused) before the directory goes.
      const outcomes = await Promise.allSettled([s.logStore.open(), s.backend.open()]);
      for (const outcome of outcomes) {
        expect(outcome.status, `cut to ${length} of ${size}`).to.equal('rejected');
        const error = (outcome as PromiseRejectedResult).reason as unknown;
        expect(error, `cut to ${length} of ${size}`).to.be.instanceOf(CorruptStorageError);
        expect(String(error)).to.contain(join(copy, 'data.mdb'));
      }
    }
  });

  it('refuses a damaged meta page (bad magic) before LMDB maps the file', async () => {
    const directory = await dirs.make('env-meta');
    await populated(directory);
    const handle = await openFile(join(directory, 'data.mdb'), 'r+');
    await handle.write(Buffer.of(0x00), 0, 1, 4096 + 24);
    await handle.close();
    expect(String(await rejection(createLmdbStorage(directory).logStore.open()))).to.match(/no LMDB magic in the second meta page/);
  });

  it('walks the file at open after a crash or any change to it, and not when it is as the last clean close left it', async () => {
    const directory = await dirs.make('env-clean-close');
    await populated(directory);
    const walks: string[] = [];
    const environment = (at = directory): LmdbEnvironment =>
      new LmdbEnvironment({
        directory: at,
        mapSize: LMDB_DEFAULTS.mapSize,
        noSync: true,
        maxReaders: LMDB_DEFAULTS.maxReaders,
        verifyOnOpen: true,
        verify: (_dir, file) => {
          walks.push(file);
          return Promise.resolve();
        },
      });
    const openAndClose = async (at = directory): Promise<void> => {
      const env = environment(at);
      await env.acquire();
      await env.release();
    };
    await openAndClose();
    expect(walks, 'closed cleanly by populated(): no walk').to.have.length(0);

    // A crash: open, then never close (the record was taken at open, so nothing says the file is sound).
    const crashed = environment();
    await crashed.acquire();
    const copy = await dirs.make('env-clean-close-copy');
    await copyFile(join(directory, 'data.mdb'), join(copy, 'data.mdb'));
    await openAndClose(copy);
    expect(walks, 'a file not closed cleanly is walked').to.deep.equal([join(copy, 'data.mdb')]);
    await crashed.release();

    // Changed after the clean close (same size, one byte of a data page): walked again.
    walks.length = 0;
    const handle = await openFile(join(directory, 'data.mdb'), 'r+');
    await handle.write(Buffer.of(0xff), 0, 1, 5 * 4096 + 100);
    await handle.close();
    await openAndClose();
    expect(walks, 'a file written since its clean close is walked').to.deep.equal([join(directory, 'data.mdb')]);
  });

  it('verifyOnOpen: false skips the walk (for stores known to be sound)', async () => {
    const directory = await dirs.make('env-noverify');
    await populated(directory);
    const s = createLmdbStorage(directory, { verifyOnOpen: false });
    await s.stableStore.open();
    expect((await s.stableStore.load())?.hardState.term).to.equal(2);
    await s.stableStore.close();
  });
});
