export { default, default as plugin } from './plugin.js';
export type { LevelDbPluginOptions } from './plugin.js';
export { createLevelDbStorage, storageLayout, STORAGE_DEFAULTS, type LevelDbStorage, type LevelDbStorageOptions } from './leveldb-storage.js';
export { LevelDbLogStore, type LevelDbLogStoreOptions } from './leveldb-log-store.js';
export { LevelDbStableStore, type LevelDbStableStoreOptions } from './leveldb-stable-store.js';
export { LevelDbSnapshotStore, type LevelDbSnapshotStoreOptions } from './leveldb-snapshot-store.js';
export { LevelDbBackend, type LevelDbBackendOptions } from './leveldb-backend.js';
export { LevelDatabase, type LevelDatabaseOptions } from './level-database.js';
export { LevelDatabasePool, levelDatabases } from './level-database-pool.js';
