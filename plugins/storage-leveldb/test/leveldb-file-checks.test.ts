import { expect } from 'chai';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CorruptStorageError } from '@cairn/core';
import { createLevelDbStorage, storageLayout } from '../src/index.js';
import { crc32c } from '@node-rs/crc32';
import { unmaskLevelDbCrc } from '../src/crc32c.js';
import { entries } from './sample-data.js';
import { TemporaryDirectories } from '@cairn/core/testkit';

describe('checks of LevelDB files before open', () => {
  const temporary = new TemporaryDirectories();
  afterEach(() => temporary.removeAll());

  it('unmasks the CRC-32C LevelDB stores (rotate right 15, plus 0xa282ead8)', () => {
    const crc = crc32c(Buffer.from('123456789'));
    expect(crc).to.equal(0xe3069283);
    const masked = ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
    expect(unmaskLevelDbCrc(masked)).to.equal(crc);
  });

  it('never hands back wrong data from a table with any one byte flipped: it refuses to open, naming the file, or reads what was written', async function () {
    this.timeout(120_000);
    const directory = await temporary.make('flip');
    const written = [...entries(1, 150, 1, 200), ...entries(151, 150, 2, 40)];
    let log = createLevelDbStorage(directory).logStore;
    await log.open();
    await log.append(written.slice(0, 150));
    await log.append(written.slice(150));
    await log.close();
    log = createLevelDbStorage(directory).logStore;
    await log.open(); // recovery turns the write-ahead log into a table
    await log.close();
    const raft = storageLayout(directory).raft;
    const table = join(
      raft,
      (await readdir(raft)).find((n) => n.endsWith('.ldb'))!,
    );
    const original = await readFile(table);
    const positions: number[] = [];
    for (let at = 0; at < original.length - 48; at += 53) positions.push(at);
    for (let at = original.length - 48; at < original.length; at++) positions.push(at);
    let refused = 0;
    for (const at of positions) {
      const damaged = Buffer.from(original);
      damaged[at] ^= 0x40;
      await writeFile(table, damaged);
      const store = createLevelDbStorage(directory).logStore;
      try {
        await store.open();
      } catch (err) {
        expect(err, `byte ${at}`).to.be.instanceOf(CorruptStorageError);
        expect((err as Error).message, `byte ${at}`).to.contain(raft);
        refused++;
        continue;
      }
      try {
        const read = await store.entries(1, 301);
        expect(
          read.map((e) => [e.index, e.term, e.type, Buffer.from(e.data).toString('hex')]),
          `byte ${at}`,
        ).to.deep.equal(written.map((e) => [e.index, e.term, e.type, Buffer.from(e.data).toString('hex')]));
      } finally {
        await store.close();
      }
    }
    await writeFile(table, original);
    // Only the footer's zero padding can change without effect.
    expect(refused).to.be.at.least(positions.length - 40);
  });

  it('refuses a write-ahead log record with a bad length or type, not only a bad checksum', async () => {
    const directory = await temporary.make('wal');
    const stable = createLevelDbStorage(directory).stableStore;
    await stable.open();
    for (let term = 1; term <= 3; term++) {
      await stable.save({ hardState: { term, vote: '', commit: 0 }, confState: { voters: ['a'], learners: [] }, clusterId: 'c', memberId: 'a' });
    }
    await stable.close();
    const raft = storageLayout(directory).raft;
    const wal = join(
      raft,
      (await readdir(raft)).find((n) => n.endsWith('.log'))!,
    );
    const original = await readFile(wal);
    for (const at of [4, 6]) {
      // the first record's length and type bytes
      const damaged = Buffer.from(original);
      damaged[at] ^= 0x01;
      await writeFile(wal, damaged);
      let error: unknown;
      await createLevelDbStorage(directory)
        .stableStore.open()
        .catch((err: unknown) => {
          error = err;
        });
      expect(error, `byte ${at}`).to.be.instanceOf(CorruptStorageError);
      expect(String(error)).to.contain(wal);
    }
  });
});
