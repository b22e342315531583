/**
 * Child of the log sync test and of the throughput measurement: appends `argv[3]` batches of
 * `argv[4]` entries of `argv[5]` bytes to a fresh store at `argv[2]`, awaiting each, with a stable
 * save issued in the same turn as every other batch (as the Raft driver does when its hard state
 * changed). Prints `ready` after open, `done <batches per second>` at the end.
 */
import { writeSync } from 'node:fs';
import { createLmdbStorage } from '../src/index.js';
import { entries, stableState } from './test-data.js';

const [directory, batchArg, perBatchArg, sizeArg] = process.argv.slice(2);
const batches = Number(batchArg);
const perBatch = Number(perBatchArg);
const size = Number(sizeArg);
const storage = createLmdbStorage(directory!);
await storage.logStore.open();
await storage.stableStore.open();
writeSync(1, 'ready\n');
const start = performance.now();
for (let b = 0; b < batches; b++) {
  const writes = [storage.logStore.append(entries(b * perBatch + 1, perBatch, 1 + (b >> 4), size))];
  if (b % 2 === 1) writes.push(storage.stableStore.save(stableState(1 + (b >> 4))));
  await Promise.all(writes);
}
const seconds = (performance.now() - start) / 1000;
writeSync(1, `done ${(batches / seconds).toFixed(0)}\n`);
await storage.stableStore.close();
await storage.logStore.close();
