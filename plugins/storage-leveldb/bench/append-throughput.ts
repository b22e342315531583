/**
 * Append throughput of the LevelDB log store: batches of N entries of B bytes, each awaited before
 * the next (as the Raft driver does), optionally with a stable-state save beside each batch.
 *
 *   npm run bench -- [--batches 2000] [--entries 64] [--bytes 256] [--with-stable] [--no-sync]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EntryType, type Entry } from '@cairn/core';
import { createLevelDbStorage } from '../src/index.js';

const { values } = parseArgs({
  options: {
    batches: { type: 'string', default: '2000' },
    entries: { type: 'string', default: '64' },
    bytes: { type: 'string', default: '256' },
    'with-stable': { type: 'boolean', default: false },
    'no-sync': { type: 'boolean', default: false },
  },
});
const batches = Number(values.batches);
const perBatch = Number(values.entries);
const data = new Uint8Array(Number(values.bytes)).fill(0x5a);

const directory = await mkdtemp(join(tmpdir(), 'cairn-leveldb-bench-'));
const storage = createLevelDbStorage(directory, { noSync: values['no-sync'] });
try {
  await storage.logStore.open();
  await storage.stableStore.open();
  let index = 1;
  const started = performance.now();
  for (let b = 0; b < batches; b++) {
    const batch: Entry[] = [];
    for (let i = 0; i < perBatch; i++) batch.push({ index: index++, term: 1, type: EntryType.Normal, data });
    const writes = [storage.logStore.append(batch)];
    if (values['with-stable']) {
      writes.push(
        storage.stableStore.save({
          hardState: { term: 1, vote: '', commit: index - 1 },
          confState: { voters: ['a'], learners: [] },
          clusterId: 'c',
          memberId: 'a',
        }),
      );
    }
    await Promise.all(writes);
  }
  const seconds = (performance.now() - started) / 1000;
  const rate = batches / seconds;
  console.log(
    `${batches} batches of ${perBatch} x ${data.length} B${values['with-stable'] ? ' + stable save' : ''}${values['no-sync'] ? ' (noSync)' : ''}: ` +
      `${rate.toFixed(0)} batches/s, ${(rate * perBatch).toFixed(0)} entries/s, ${((rate * perBatch * data.length) / 1048576).toFixed(1)} MiB/s, ${(1000 / rate).toFixed(2)} ms per batch`,
  );
} finally {
  await storage.stableStore.close();
  await storage.logStore.close();
  await rm(directory, { recursive: true, force: true });
}
