export { default, default as plugin } from './plugin.js';
export { FILE_STORAGE_DEFAULTS, type FileStoragePluginOptions } from './plugin.js';
export { FileLogStore, type FileLogStoreOptions } from './file-log-store.js';
export { FileStableStore } from './file-stable-store.js';
export { FileSnapshotStore, type FileSnapshotStoreOptions } from './file-snapshot-store.js';
export { FILE_LOG_STORE_OPTIONS, FILE_SNAPSHOT_DIRECTORY, FILE_SNAPSHOT_STORE_OPTIONS, FILE_STORAGE_DIRECTORY } from './tokens.js';
