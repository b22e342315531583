export { default, default as plugin } from './plugin.js';
export type { LevelDbPluginOptions } from './plugin.js';
export {
  createLevelDbStorage,
  levelDbStorageSettings,
  storageLayout,
  STORAGE_DEFAULTS,
  type LevelDbStorage,
  type LevelDbStorageOptions,
  type LevelDbStorageSettings,
} from './leveldb-storage.js';
export { LevelDbLogStore } from './leveldb-log-store.js';
export { LevelDbStableStore } from './leveldb-stable-store.js';
export { LevelDbSnapshotStore, type LevelDbSnapshotStoreOptions } from './leveldb-snapshot-store.js';
export { LevelDbBackend } from './leveldb-backend.js';
export { LevelDatabase, type LevelDatabaseOptions } from './level-database.js';
export { LevelDatabasePool, levelDatabases } from './level-database-pool.js';
export { LEVELDB_BACKEND_DATABASE, LEVELDB_RAFT_DATABASE, LEVELDB_SNAPSHOT_STORE_OPTIONS } from './tokens.js';
