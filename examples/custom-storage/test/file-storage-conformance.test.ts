import type { SnapshotStore } from '@cairn/core';
import { logStoreConformance, snapshotStoreConformance, stableStoreConformance } from '@cairn/core/testkit';
import type { FileSnapshotStore } from '../src/index.js';

// The whole kit, disk sections included, against the stores as the plugin binds them: one line per port.
const stores = new URL('./file-stores.js', import.meta.url);

logStoreConformance('FileLogStore (append-only file)', { module: stores, dataFiles: /^log\.dat$/ });
logStoreConformance('FileLogStore (rewritten at every compaction that leaves it half dead)', {
  module: new URL('./file-stores-eager-rewrite.js', import.meta.url),
  dataFiles: /^log\.dat$/,
});
stableStoreConformance('FileStableStore (write and rename)', { module: stores, dataFiles: /^stable$/ });
snapshotStoreConformance(
  'FileSnapshotStore (one file per snapshot)',
  { module: stores, dataFiles: /^snapshots\/.*\.snap$/ },
  {
    retain: 2,
    retained: (store: SnapshotStore) => (store as FileSnapshotStore).list(),
  },
);
