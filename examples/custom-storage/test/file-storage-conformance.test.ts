import type { SnapshotStore } from '../../src/ports/snapshot-store.js';
import { logStoreConformance } from '../../src/testkit/conformance/storage/log-store-conformance.js';
import { snapshotStoreConformance } from '../../src/testkit/conformance/storage/snapshot-store-conformance.js';
import { stableStoreConformance } from '../../src/testkit/conformance/storage/stable-store-conformance.js';
import type { FileSnapshotStore } from './file-snapshot-store.js';

// The whole kit, disk sections included, against the correct test-only file stores.
const module = new URL('./file-stores.js', import.meta.url);

logStoreConformance('FileLogStore (test-only, append-only file)', { module, dataFiles: /^log\.dat$/ });
stableStoreConformance('FileStableStore (test-only, write and rename)', { module, dataFiles: /^stable$/ });
snapshotStoreConformance('FileSnapshotStore (test-only, one file per snapshot)', { module, dataFiles: /\.snap$/ }, {
  retain: 2,
  retained: (store: SnapshotStore) => (store as FileSnapshotStore).list(),
});
