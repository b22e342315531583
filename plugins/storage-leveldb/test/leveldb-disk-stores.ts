/**
 * The storage conformance kit's DiskStoreModule for this plugin: each builder makes one unopened
 * store keeping all its files under `directory`. The kit imports this file in the test process and
 * in the child processes it SIGKILLs.
 */
import { createLevelDbStorage, type LevelDbBackend, type LevelDbLogStore, type LevelDbSnapshotStore, type LevelDbStableStore } from '../src/index.js';

export const createLogStore = (directory: string): LevelDbLogStore => createLevelDbStorage(directory).logStore;
export const createStableStore = (directory: string): LevelDbStableStore => createLevelDbStorage(directory).stableStore;
export const createSnapshotStore = (directory: string): LevelDbSnapshotStore => createLevelDbStorage(directory).snapshotStore;
export const createBackend = (directory: string): LevelDbBackend => createLevelDbStorage(directory).backend;

/** Every file that holds data: LevelDB's logs, tables, manifests and CURRENT, and the snapshot files. */
export const DATA_FILES = /(^|\/)(\d+\.(log|ldb|sst)|MANIFEST-\d+|CURRENT)$|\.snap$/;
