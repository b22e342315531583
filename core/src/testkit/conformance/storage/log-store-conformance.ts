import type { LogStore } from '../../../ports/log-store.js';
import { registerDiskSections, type DiskSectionOptions } from './disk-sections.js';
import { diskStoreFactory } from './disk-store-module.js';
import { checkLogStoreSurvivesCrashes, logStoreChecks, type LogStoreCheckOptions } from './log-store-checks.js';
import { isDiskStoreTarget, type DiskStoreTarget, type StoreFixtureFactory } from './store-fixture.js';
import { runStorageCheck } from './store-incarnations.js';

export interface LogStoreConformanceOptions extends LogStoreCheckOptions, DiskSectionOptions {}

/**
 * The conformance suite every LogStore passes: defines a mocha `describe` named after the
 * implementation. `target` is a factory of fixtures (in-memory or custom stores; with `crash()`
 * the in-process crash check runs too) or a DiskStoreTarget (stores built by a module on
 * temporary directories; the SIGKILL, fsync-ordering and corruption sections run too).
 */
export function logStoreConformance(name: string, target: StoreFixtureFactory<LogStore> | DiskStoreTarget, options: LogStoreConformanceOptions = {}): void {
  const factory = isDiskStoreTarget(target) ? diskStoreFactory(target, 'createLogStore') : target;

  describe(`LogStore conformance: ${name}`, function () {
    this.timeout(60_000);
    for (const check of logStoreChecks(options)) {
      it(check.title, () => runStorageCheck(factory, check));
    }
    if (isDiskStoreTarget(target)) {
      registerDiskSections('log', target, options);
    } else {
      it('keeps every acknowledged operation across simulated crashes (fixtures with crash())', async function () {
        const probe = await factory();
        const canCrash = probe.crash !== undefined;
        await probe.dispose();
        if (!canCrash) {
          console.log('      skipped: the fixture has no crash() to simulate power loss');
          this.skip();
        }
        await checkLogStoreSurvivesCrashes(factory, options);
      });
    }
  });
}
