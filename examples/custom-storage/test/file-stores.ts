// The disk store module of the test-only file stores (see DiskStoreModule): what the kit imports.
import { FileLogStore } from './file-log-store.js';
import { FileSnapshotStore } from './file-snapshot-store.js';
import { FileStableStore } from './file-stable-store.js';

export const createLogStore = (directory: string): FileLogStore => new FileLogStore(directory);
export const createStableStore = (directory: string): FileStableStore => new FileStableStore(directory);
export const createSnapshotStore = (directory: string): FileSnapshotStore => new FileSnapshotStore(directory, 2);
