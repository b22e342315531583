/**
 * Throughput of the LMDB storage ports on this machine's disk (fsync on, the defaults):
 *   - LogStore.append: batches of 64 entries of 256 B, each awaited (the Raft driver's pattern),
 *     with a StableStore.save in the same turn every other batch;
 *   - Backend.write: 3-op writes awaited one after the other, 64 per turn, flush() every 1024,
 *     as the MVCC layer applies committed entries.
 * Usage: npm run bench [-- <seconds per part, default 5>]. Run it under `strace -f -c -e
 * trace=fdatasync,fsync,msync` to count the syncs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EntryType, type Entry } from '@cairn/core';
import { createLmdbStorage } from '../src/index.js';

const seconds = Number(process.argv[2] ?? 5);
const directory = mkdtempSync(join(tmpdir(), 'cairn-lmdb-bench-'));
const storage = createLmdbStorage(directory);
try {
  await Promise.all([storage.logStore.open(), storage.stableStore.open(), storage.backend.open()]);
  const data = new Uint8Array(256).fill(7);
  let next = 1;
  let batches = 0;
  let until = performance.now() + seconds * 1000;
  let start = performance.now();
  while (performance.now() < until) {
    const batch: Entry[] = Array.from({ length: 64 }, () => ({ index: next++, term: 1, type: EntryType.Normal, data }));
    const writes = [storage.logStore.append(batch)];
    if (batches % 2 === 1) {
      writes.push(
        storage.stableStore.save({
          hardState: { term: 1, vote: '0', commit: next - 1 },
          confState: { voters: ['a'], learners: [] },
          clusterId: 'c',
          memberId: 'a',
        }),
      );
    }
    await Promise.all(writes);
    batches++;
  }
  let elapsed = (performance.now() - start) / 1000;
  console.log(
    `log append: ${(batches / elapsed).toFixed(0)} batches/s of 64 x 256 B (${((batches * 64) / elapsed).toFixed(0)} entries/s), a stable save in every other batch`,
  );

  const value = new Uint8Array(200).fill(3);
  let writes = 0;
  until = performance.now() + seconds * 1000;
  start = performance.now();
  while (performance.now() < until) {
    for (let i = 0; i < 64; i++, writes++) {
      const key = Buffer.alloc(17);
      key.writeDoubleBE(writes, 1);
      await storage.backend.write([
        { type: 'put', key, value },
        { type: 'put', key: Buffer.from('meta/applied'), value: key.subarray(1, 9) },
        { type: 'put', key: Buffer.from('meta/revision'), value: key.subarray(1, 9) },
      ]);
    }
    if (writes % 1024 === 0) await storage.backend.flush();
    await new Promise((resolve) => setImmediate(resolve));
  }
  await storage.backend.flush();
  elapsed = (performance.now() - start) / 1000;
  console.log(`backend write: ${(writes / elapsed).toFixed(0)} writes/s of 3 ops, 64 per turn, flush every 1024`);
} finally {
  await Promise.all([storage.logStore.close(), storage.stableStore.close(), storage.backend.close()]);
  rmSync(directory, { recursive: true, force: true });
}
