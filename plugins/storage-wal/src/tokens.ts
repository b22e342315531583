/** The log's directory, absolute: the `directory` option resolved from --data-dir. */
export const WAL_DIRECTORY = Symbol.for('cairn.plugin.storage-wal.directory');
/** The plugin's validated options, defaults filled in (a WalLogStoreOptions). */
export const WAL_OPTIONS = Symbol.for('cairn.plugin.storage-wal.options');
