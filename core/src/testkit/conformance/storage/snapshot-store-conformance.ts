import type { SnapshotStore } from '../../../ports/snapshot-store.js';
import { registerDiskSections, type DiskSectionOptions } from './disk-sections.js';
import { diskStoreFactory } from './disk-store-module.js';
import { snapshotStoreChecks, type SnapshotStoreCheckOptions } from './snapshot-store-checks.js';
import { isDiskStoreTarget, type DiskStoreTarget, type StoreFixtureFactory } from './store-fixture.js';
import { runStorageCheck } from './store-incarnations.js';

export interface SnapshotStoreConformanceOptions extends SnapshotStoreCheckOptions, DiskSectionOptions {}

/**
 * The conformance suite every SnapshotStore passes (a mocha `describe`). `options.retain` is how
 * many snapshots the stores keep. With a DiskStoreTarget the corruption section runs too.
 */
export function snapshotStoreConformance(
  name: string,
  target: StoreFixtureFactory<SnapshotStore> | DiskStoreTarget,
  options: SnapshotStoreConformanceOptions,
): void {
  const factory = isDiskStoreTarget(target) ? diskStoreFactory(target, 'createSnapshotStore') : target;

  describe(`SnapshotStore conformance: ${name}`, function () {
    this.timeout(60_000);
    for (const check of snapshotStoreChecks(options)) {
      it(check.title, () => runStorageCheck(factory, check));
    }
    if (isDiskStoreTarget(target)) registerDiskSections('snapshot', target, options);
  });
}
