import { lmdbStoragePlugin } from './plugin.js';

export default lmdbStoragePlugin;
export { lmdbStoragePlugin as plugin, createLmdbStorage, LMDB_DEFAULTS, type LmdbPluginOptions, type LmdbStorage } from './plugin.js';
export { LmdbEnvironment, type LmdbEnvironmentOptions } from './lmdb-environment.js';
export { LmdbLogStore } from './lmdb-log-store.js';
export { LmdbStableStore } from './lmdb-stable-store.js';
export { LmdbSnapshotStore, type LmdbSnapshotStoreOptions } from './lmdb-snapshot-store.js';
export { LmdbBackend } from './lmdb-backend.js';
export { MAX_BACKEND_KEY_BYTES } from './backend-record.js';
export { LMDB_BACKEND_BATCH, LMDB_ENVIRONMENT_OPTIONS, LMDB_SNAPSHOT_STORE_OPTIONS } from './tokens.js';
