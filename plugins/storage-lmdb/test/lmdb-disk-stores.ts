import type { Backend, LogStore, SnapshotStore, StableStore } from '@cairn/core';
import { createLmdbStorage } from '../src/index.js';

/**
 * The conformance kit's disk store module: each builder makes one unopened port on its own LMDB
 * environment in `directory`, with the plugin's defaults (fsync on). The kit imports this file in
 * its child processes too.
 */
export const createLogStore = (directory: string): LogStore => createLmdbStorage(directory).logStore;
export const createStableStore = (directory: string): StableStore => createLmdbStorage(directory).stableStore;
export const createSnapshotStore = (directory: string): SnapshotStore => createLmdbStorage(directory, { snapshotChunkBytes: 256 << 10 }).snapshotStore;
export const createBackend = (directory: string): Backend => createLmdbStorage(directory).backend;
