/** The directory of `log.dat` and `stable`, absolute: the `directory` option resolved from --data-dir. */
export const FILE_STORAGE_DIRECTORY = Symbol.for('cairn-example-file-storage.directory');
/** The snapshot store's directory, `<directory>/snapshots`. */
export const FILE_SNAPSHOT_DIRECTORY = Symbol.for('cairn-example-file-storage.snapshot-directory');
/** The log store's options (a FileLogStoreOptions), from the plugin's validated options. */
export const FILE_LOG_STORE_OPTIONS = Symbol.for('cairn-example-file-storage.log-store-options');
/** The snapshot store's options (a FileSnapshotStoreOptions), from the plugin's validated options. */
export const FILE_SNAPSHOT_STORE_OPTIONS = Symbol.for('cairn-example-file-storage.snapshot-store-options');
