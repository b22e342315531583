/** The raft database's options (a LevelDatabaseOptions): the log, stable and snapshot stores share it. */
export const LEVELDB_RAFT_DATABASE = Symbol.for('cairn.plugin.storage-leveldb.raft-database');
/** The backend database's options (a LevelDatabaseOptions). */
export const LEVELDB_BACKEND_DATABASE = Symbol.for('cairn.plugin.storage-leveldb.backend-database');
/** The snapshot store's options (a LevelDbSnapshotStoreOptions). */
export const LEVELDB_SNAPSHOT_STORE_OPTIONS = Symbol.for('cairn.plugin.storage-leveldb.snapshot-store-options');
