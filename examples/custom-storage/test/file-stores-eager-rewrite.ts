// The log store with logRewriteMinBytes 0: every compaction that leaves the file more than half
// dead rewrites it, so the kit's crash, fsync and corruption sections run across rewrites too.
import { pluginStores } from './plugin-stores.js';

export const { createLogStore } = pluginStores({ logRewriteMinBytes: 0 });
