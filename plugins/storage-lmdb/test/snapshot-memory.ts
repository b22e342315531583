/**
 * Child of the snapshot memory test (run with --expose-gc): saves and reads back `argv[3]` bytes
 * in the store at `argv[2]`, collecting garbage every few pieces, and prints the most array-buffer
 * memory that stayed live above the starting point: `peak save <bytes>`, `peak read <bytes>`.
 */
import { createLmdbStorage } from '../src/index.js';
import { streamOf } from './test-data.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const storage = createLmdbStorage(process.argv[2]!, { noSync: true, snapshotChunkBytes: 256 * 1024 });
await storage.snapshotStore.open();
const total = Number(process.argv[3]);
gc();
const baseline = process.memoryUsage().arrayBuffers;
let peak = 0;
let seen = 0;
let reading = false;
const sample = (): void => {
  if (++seen % 16 !== 0) return;
  gc();
  peak = Math.max(peak, process.memoryUsage().arrayBuffers - (reading ? readBaseline : baseline));
};
async function* sampled(data: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const part of data) {
    sample();
    yield part;
  }
}
await storage.snapshotStore.save({ index: 1, term: 1, confState: { voters: [], learners: [] } }, sampled(streamOf(total, 3)));
console.log(`peak save ${peak}`);
gc();
const readBaseline = process.memoryUsage().arrayBuffers;
peak = 0;
reading = true;
let read = 0;
for await (const part of (await storage.snapshotStore.latest())!.read()) {
  read += part.byteLength;
  sample();
}
if (read !== total) throw new Error(`read ${read} of ${total} bytes`);
console.log(`peak read ${peak}`);
await storage.snapshotStore.close();
