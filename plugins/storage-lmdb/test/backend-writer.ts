/**
 * Child of the backend SIGKILL test: writes numbered batches (its key and `last` together) to the
 * backend in `argv[2]`, flushing every fifth and printing `flushed <n>` once that flush resolved,
 * until it is killed.
 */
import { writeSync } from 'node:fs';
import { createLmdbStorage } from '../src/index.js';

const storage = createLmdbStorage(process.argv[2]!);
await storage.backend.open();
const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');
for (let n = 1; ; n++) {
  await storage.backend.write([
    { type: 'put', key: bytes(`batch-${n}`), value: bytes(`value-${n}`) },
    { type: 'put', key: bytes('last'), value: bytes(String(n)) },
  ]);
  if (n % 5 === 0) {
    await storage.backend.flush();
    writeSync(1, `flushed ${n}\n`);
  } else if (n % 3 === 0) {
    await new Promise((resolve) => setImmediate(resolve));
  }
}
