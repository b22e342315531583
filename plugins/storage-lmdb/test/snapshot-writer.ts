/**
 * Child of the snapshot crash test: saves snapshot 10 (prints `saved 10`), then starts snapshot 20
 * from a source that never ends (prints `streaming 20` once several chunks are stored), until it is
 * killed.
 */
import { writeSync } from 'node:fs';
import { createLmdbStorage } from '../src/index.js';
import { patternBytes, streamOf } from './test-data.js';

const storage = createLmdbStorage(process.argv[2]!, { snapshotChunkBytes: 64 * 1024 });
await storage.snapshotStore.open();
const meta = (index: number) => ({ index, term: 1, confState: { voters: ['000000000000000a'], learners: [] } });
await storage.snapshotStore.save(meta(10), streamOf(500_000, 10));
writeSync(1, 'saved 10\n');
async function* endless(): AsyncGenerator<Uint8Array> {
  for (let n = 0; ; n++) {
    yield patternBytes(32 * 1024, n);
    if (n === 20) writeSync(1, 'streaming 20\n');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
await storage.snapshotStore.save(meta(20), endless());
