import { backendConformance, logStoreConformance, snapshotStoreConformance, stableStoreConformance } from '@cairn/core/testkit';
import { LMDB_DEFAULTS, type LmdbSnapshotStore } from '../src/index.js';

/** The kit's suites on stores built by lmdb-disk-stores.ts, with its on-disk sections (SIGKILL, strace fsync order, corruption). */
const lmdb = { module: new URL('./lmdb-disk-stores.js', import.meta.url), dataFiles: /^(data\.mdb|snapshots\/\d+\.snap)$/ };

logStoreConformance('LmdbLogStore', lmdb);
stableStoreConformance('LmdbStableStore', lmdb);
snapshotStoreConformance('LmdbSnapshotStore', lmdb, {
  retain: LMDB_DEFAULTS.retainSnapshots,
  retained: async (store) => (store as LmdbSnapshotStore).list(),
});
backendConformance('LmdbBackend', lmdb);
