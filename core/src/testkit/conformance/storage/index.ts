export type { StoreFixture, StoreFixtureFactory, DiskStoreModule, DiskStores, DiskStoreBuilder, DiskStoreTarget } from './store-fixture.js';
export { StoreIncarnations, runStorageCheck, type StorageCheck } from './store-incarnations.js';
export { diskStoreFactory } from './disk-store-module.js';
export { logStoreConformance, type LogStoreConformanceOptions } from './log-store-conformance.js';
export { logStoreChecks, checkLogStoreSurvivesCrashes, type LogStoreCheckOptions } from './log-store-checks.js';
export { stableStoreConformance, type StableStoreConformanceOptions } from './stable-store-conformance.js';
export { stableStoreChecks, checkStableStoreSurvivesCrashes, type StableStoreCheckOptions } from './stable-store-checks.js';
export { snapshotStoreConformance, type SnapshotStoreConformanceOptions } from './snapshot-store-conformance.js';
export { snapshotStoreChecks, snapshotMeta, type SnapshotStoreCheckOptions } from './snapshot-store-checks.js';
export { SnapshotSource, readBack, type SnapshotSourceOptions, type ReadBack } from './snapshot-source.js';
export { backendConformance, type BackendConformanceOptions } from './backend-conformance.js';
export { backendChecks, BackendModel, EDGE_KEYS, type BackendCheckOptions } from './backend-checks.js';
export type { DiskSectionOptions } from './disk-sections.js';
export { checkLogStoreSurvivesSigkill, checkStableStoreSurvivesSigkill, type SigkillCheckOptions, type SigkillRound } from './sigkill-crash.js';
export { checkLogStoreFsyncOrdering, checkStableStoreFsyncOrdering, findStrace, STRACE_MISSING, type FsyncOrderingOptions } from './fsync-ordering.js';
export { analyseFsyncOrdering, FSYNC_TRACE_SYSCALLS, type FsyncOrderingAnalysis, type FsyncOrderingRule, type FsyncViolation } from './fsync-ordering-rule.js';
export { parseStraceOutput, type TraceCall } from './strace-trace.js';
export {
  checkLogStoreCorruption,
  checkStableStoreCorruption,
  checkSnapshotStoreCorruption,
  type CorruptionCheckOptions,
  type CorruptionReport,
  type CorruptionRound,
} from './corruption.js';
export { LogModel, assertLogMatches } from './log-model.js';
