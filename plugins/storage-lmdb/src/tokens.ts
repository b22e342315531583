/** The environment's options (an LmdbEnvironmentOptions): the plugin's validated options, the directory resolved from --data-dir. */
export const LMDB_ENVIRONMENT_OPTIONS = Symbol.for('cairn.plugin.storage-lmdb.environment-options');
/** The snapshot store's options (an LmdbSnapshotStoreOptions), from the plugin's validated options. */
export const LMDB_SNAPSHOT_STORE_OPTIONS = Symbol.for('cairn.plugin.storage-lmdb.snapshot-store-options');
/** How the backend batches its commits; unbound, etcd's batching (BACKEND_BATCH). */
export const LMDB_BACKEND_BATCH = Symbol.for('cairn.plugin.storage-lmdb.backend-batch');
