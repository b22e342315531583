import type { StableStore } from '../../../ports/stable-store.js';
import { registerDiskSections, type DiskSectionOptions } from './disk-sections.js';
import { diskStoreFactory } from './disk-store-module.js';
import { checkStableStoreSurvivesCrashes, stableStoreChecks, type StableStoreCheckOptions } from './stable-store-checks.js';
import { isDiskStoreTarget, type DiskStoreTarget, type StoreFixtureFactory } from './store-fixture.js';
import { runStorageCheck } from './store-incarnations.js';

export interface StableStoreConformanceOptions extends StableStoreCheckOptions, DiskSectionOptions {}

/**
 * The conformance suite every StableStore passes (a mocha `describe`). `target` as for
 * logStoreConformance: a fixture factory, or a DiskStoreTarget that also runs the disk sections.
 */
export function stableStoreConformance(
  name: string,
  target: StoreFixtureFactory<StableStore> | DiskStoreTarget,
  options: StableStoreConformanceOptions = {},
): void {
  const factory = isDiskStoreTarget(target) ? diskStoreFactory(target, 'createStableStore') : target;

  describe(`StableStore conformance: ${name}`, function () {
    this.timeout(60_000);
    for (const check of stableStoreChecks(options)) {
      it(check.title, () => runStorageCheck(factory, check));
    }
    if (isDiskStoreTarget(target)) {
      registerDiskSections('stable', target, options);
    } else {
      it('loads the last acknowledged state after simulated crashes (fixtures with crash())', async function () {
        const probe = await factory();
        const canCrash = probe.crash !== undefined;
        await probe.dispose();
        if (!canCrash) {
          console.log('      skipped: the fixture has no crash() to simulate power loss');
          this.skip();
        }
        await checkStableStoreSurvivesCrashes(factory, options);
      });
    }
  });
}
