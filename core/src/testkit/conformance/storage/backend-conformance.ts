import type { Backend } from '../../../ports/backend.js';
import { backendChecks, type BackendCheckOptions } from './backend-checks.js';
import { diskStoreFactory } from './disk-store-module.js';
import { isDiskStoreTarget, type DiskStoreTarget, type StoreFixtureFactory } from './store-fixture.js';
import { runStorageCheck } from './store-incarnations.js';

export type BackendConformanceOptions = BackendCheckOptions;

/**
 * The conformance suite every Backend passes (a mocha `describe`). A Backend is durable only at
 * flush(), so close and reopen are checked after flush(); a DiskStoreTarget only supplies the stores
 * (the Raft-record disk sections do not apply to it).
 */
export function backendConformance(name: string, target: StoreFixtureFactory<Backend> | DiskStoreTarget, options: BackendConformanceOptions = {}): void {
  const factory = isDiskStoreTarget(target) ? diskStoreFactory(target, 'createBackend') : target;

  describe(`Backend conformance: ${name}`, function () {
    this.timeout(60_000);
    for (const check of backendChecks(options)) {
      it(check.title, () => runStorageCheck(factory, check));
    }
  });
}
