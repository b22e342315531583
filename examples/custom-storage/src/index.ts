export { default, default as plugin } from './plugin.js';
export { FILE_STORAGE_DEFAULTS, type FileStoragePluginOptions } from './plugin.js';
export { FileLogStore, type FileLogStoreOptions } from './file-log-store.js';
export { FileStableStore } from './file-stable-store.js';
export { FileSnapshotStore, type FileSnapshotStoreOptions } from './file-snapshot-store.js';
