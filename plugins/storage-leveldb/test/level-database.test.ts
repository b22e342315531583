import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { CorruptStorageError } from '@cairn/core';
import { LevelDatabase, LevelDatabasePool, createLevelDbStorage, storageLayout } from '../src/index.js';
import { TemporaryDirectories, rejection } from '@cairn/core/testkit';

const options = (location: string, format = 'test-format/1') => ({
  location,
  format,
  sync: true,
  cacheSizeBytes: 1 << 20,
  writeBufferSizeBytes: 1 << 20,
  compression: true,
  verifyTablesOnOpen: true,
});

describe('LevelDatabase', () => {
  const temporary = new TemporaryDirectories();
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    await temporary.removeAll();
  });

  it('refuses a directory of other files, naming it', async () => {
    const location = join(await temporary.make('db'), 'raft');
    await mkdir(location);
    await writeFile(join(location, 'notes.txt'), 'not a database');
    const err = await rejection(new LevelDatabase(options(location)).open());
    expect(err).to.be.instanceOf(CorruptStorageError);
    expect(err.message).to.contain(location).and.to.contain('no LevelDB CURRENT');
  });

  it('refuses a LevelDB database of another program', async () => {
    const location = join(await temporary.make('db'), 'foreign');
    const foreign = new ClassicLevel(location);
    await foreign.put('user:1', 'someone else');
    await foreign.close();
    const err = await rejection(new LevelDatabase(options(location)).open());
    expect(err).to.be.instanceOf(CorruptStorageError);
    expect(err.message).to.contain(location).and.to.contain('format marker');
  });

  it('refuses a Cairn database of the other kind (a backend where the raft state belongs)', async () => {
    const directory = await temporary.make('db');
    const backend = createLevelDbStorage(directory).backend;
    await backend.open();
    await backend.close();
    const err = await rejection(new LevelDatabase(options(storageLayout(directory).backend, 'cairn-storage-leveldb/raft/1')).open());
    expect(err).to.be.instanceOf(CorruptStorageError);
    expect(err.message).to.contain('cairn-storage-leveldb/backend/1');
  });

  it('says the directory is in use when another process holds it', async function () {
    const location = join(await temporary.make('db'), 'locked');
    const database = new LevelDatabase(options(location));
    await database.open();
    await database.close();
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `
      const { ClassicLevel } = require(${JSON.stringify(require_resolve('classic-level'))});
      const db = new ClassicLevel(${JSON.stringify(location)});
      db.open({ createIfMissing: false }).then(() => console.log('open'));
      setInterval(() => {}, 1000);
    `,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(holder);
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    const err = await rejection(new LevelDatabase(options(location)).open());
    expect(err.message).to.contain(location).and.to.contain('in use by another process');
    // Found before any file is read (/proc/locks), so a log the holder is writing is never mistaken for a torn one.
    if (process.platform === 'linux') expect(err.message).to.contain(`PID ${holder.pid}`);
  });

  it('applies writes in the order they were issued, merging those issued together', async () => {
    const location = join(await temporary.make('db'), 'ordered');
    const database = new LevelDatabase(options(location));
    await database.open();
    const key = Buffer.from('k');
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) writes.push(database.write([{ type: 'put', key, value: Buffer.from(String(i)) }], i % 3 === 0));
    await Promise.all(writes);
    expect((await database.get(key))!.toString()).to.equal('199');
    await database.close();
  });

  it('shares one handle per directory in a process, closed by the last user', async () => {
    const location = join(await temporary.make('db'), 'shared');
    const pool = new LevelDatabasePool();
    const [a, b] = await Promise.all([pool.acquire(options(location)), pool.acquire(options(location))]);
    expect(a).to.equal(b);
    await pool.release(a);
    await a.write([{ type: 'put', key: Buffer.from('x'), value: Buffer.from('1') }], true);
    await pool.release(b);
    expect(await rejection(a.write([], true))).to.match(/not open/);
    const again = await pool.acquire(options(location));
    expect((await again.get(Buffer.from('x')))!.toString()).to.equal('1');
    await pool.release(again);
  });
});

function require_resolve(name: string): string {
  return createRequire(import.meta.url).resolve(name);
}
