import { walStoragePlugin } from './plugin.js';

export default walStoragePlugin;
export { walStoragePlugin as plugin, createWalLogStore, WAL_DEFAULTS, type WalPluginOptions } from './plugin.js';
export { WalLogStore, type WalLogStoreOptions } from './wal-log-store.js';
export { WAL_DIRECTORY, WAL_OPTIONS } from './tokens.js';
