import { logStoreConformance, stableStoreConformance } from '@cairn/core/testkit';
import { DATA_FILES } from './leveldb-disk-stores.js';

/** The storage conformance kit on stores built in temporary directories, with its on-disk sections (SIGKILL, fsync order under strace, corruption). */
const leveldb = { module: new URL('./leveldb-disk-stores.js', import.meta.url), dataFiles: DATA_FILES };

logStoreConformance('LevelDbLogStore', leveldb);
stableStoreConformance('LevelDbStableStore', leveldb);
