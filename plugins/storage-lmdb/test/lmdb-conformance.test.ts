import { logStoreConformance, stableStoreConformance } from '@cairn/core/testkit';

/** The kit's suites on stores built by lmdb-disk-stores.ts, with its on-disk sections (SIGKILL, strace fsync order, corruption). */
const lmdb = { module: new URL('./lmdb-disk-stores.js', import.meta.url), dataFiles: /^data\.mdb$/ };

logStoreConformance('LmdbLogStore', lmdb);
stableStoreConformance('LmdbStableStore', lmdb);
