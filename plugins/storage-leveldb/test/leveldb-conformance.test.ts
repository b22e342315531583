import { backendConformance, logStoreConformance, snapshotStoreConformance, stableStoreConformance } from '@cairn/core/testkit';
import { STORAGE_DEFAULTS, type LevelDbSnapshotStore } from '../src/index.js';
import { DATA_FILES } from './leveldb-disk-stores.js';

/** The storage conformance kit on stores built in temporary directories, with its on-disk sections (SIGKILL, fsync order under strace, corruption). */
const leveldb = { module: new URL('./leveldb-disk-stores.js', import.meta.url), dataFiles: DATA_FILES };

logStoreConformance('LevelDbLogStore', leveldb);
stableStoreConformance('LevelDbStableStore', leveldb);
snapshotStoreConformance('LevelDbSnapshotStore', leveldb, {
  retain: STORAGE_DEFAULTS.retainSnapshots,
  retained: async (store) => (store as LevelDbSnapshotStore).list(),
});
backendConformance('LevelDbBackend', leveldb);
