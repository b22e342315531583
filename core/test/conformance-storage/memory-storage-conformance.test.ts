import type { Lifecycle } from '../../src/ports/lifecycle.js';
import type { Backend } from '../../src/ports/backend.js';
import type { SnapshotStore } from '../../src/ports/snapshot-store.js';
import { backendConformance } from '../../src/testkit/conformance/storage/backend-conformance.js';
import { logStoreConformance } from '../../src/testkit/conformance/storage/log-store-conformance.js';
import { snapshotStoreConformance } from '../../src/testkit/conformance/storage/snapshot-store-conformance.js';
import { stableStoreConformance } from '../../src/testkit/conformance/storage/stable-store-conformance.js';
import type { StoreFixtureFactory } from '../../src/testkit/conformance/storage/store-fixture.js';
import { MemoryBackend } from '../../src/memory/memory-backend.js';
import { MemoryDisk } from '../../src/memory/memory-disk.js';
import { MemoryLogStore } from '../../src/memory/memory-log-store.js';
import { MemorySnapshotStore } from '../../src/memory/memory-snapshot-store.js';
import { MemoryStableStore } from '../../src/memory/memory-stable-store.js';

/** A memory store that a new incarnation recovers from its predecessor over a fresh disk. */
interface Recoverable<S> extends Lifecycle {
  recover(disk: MemoryDisk): S;
}

/**
 * Fixtures for the memory stores: each incarnation is what its predecessor made durable (all of
 * it after a clean close; only resolved writes after crash(), which fails the disk).
 */
function memoryFixtures<S extends Recoverable<S>>(fresh: (disk: MemoryDisk) => S): StoreFixtureFactory<S> {
  return async () => {
    let disk = new MemoryDisk();
    let last: S | undefined;
    return {
      create: () => {
        last = last === undefined ? fresh(disk) : last.recover((disk = new MemoryDisk()));
        return last;
      },
      crash: () => disk.crash(),
      dispose: async () => undefined,
    };
  };
}

logStoreConformance(
  'MemoryLogStore',
  memoryFixtures((disk) => new MemoryLogStore(disk)),
);
stableStoreConformance(
  'MemoryStableStore',
  memoryFixtures((disk) => new MemoryStableStore(disk)),
);

// Snapshots: no crash(), since the kit's snapshot checks have no crash section.
snapshotStoreConformance(
  'MemorySnapshotStore',
  memoryFixtures((disk) => new MemorySnapshotStore(disk, { retain: 2 })),
  {
    retain: 2,
    retained: async (store: SnapshotStore) => (store as MemorySnapshotStore).list(),
    holdsDataInMemory: true,
  },
);

// The memory backend is durable only at flush(): the next incarnation holds what was flushed.
backendConformance('MemoryBackend', async () => {
  let last: MemoryBackend | undefined;
  return {
    create: (): Backend => (last = last === undefined ? new MemoryBackend() : last.recover()),
    dispose: async () => undefined,
  };
});
