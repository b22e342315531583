// The disk store module of the example's stores (see DiskStoreModule): what the kit imports, in
// this process and in its child processes. The stores are built as the plugin binds them.
import { pluginStores } from './plugin-stores.js';

export const { createLogStore, createStableStore, createSnapshotStore } = pluginStores();
