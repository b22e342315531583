import { join } from 'node:path';
import type { LevelDatabaseOptions } from './level-database.js';
import { levelDatabases, type LevelDatabasePool } from './level-database-pool.js';
import { BACKEND_FORMAT, RAFT_FORMAT } from './key-layout.js';
import { LevelDbBackend } from './leveldb-backend.js';
import { LevelDbLogStore } from './leveldb-log-store.js';
import { LevelDbSnapshotStore, type LevelDbSnapshotStoreOptions } from './leveldb-snapshot-store.js';
import { LevelDbStableStore } from './leveldb-stable-store.js';

/** How the stores of one directory are tuned; every field has a safe default. */
export interface LevelDbStorageOptions {
  /** Skip every fsync. Tests only: a crash of the machine then loses acknowledged writes. */
  readonly noSync?: boolean;
  /** Snapshots kept (the newest ones). */
  readonly retainSnapshots?: number;
  /** Bytes per chunk when a snapshot is read out. */
  readonly snapshotChunkBytes?: number;
  /** LevelDB block cache per database. */
  readonly cacheSizeBytes?: number;
  /** LevelDB memtable size per database (also the most write-ahead log replayed on open). */
  readonly writeBufferSizeBytes?: number;
  /** Snappy compression of table blocks. */
  readonly compression?: boolean;
  /** Check every table block's checksum on open (one read of the whole database). */
  readonly verifyTablesOnOpen?: boolean;
  readonly pool?: LevelDatabasePool;
}

export const STORAGE_DEFAULTS = {
  noSync: false,
  retainSnapshots: 2,
  snapshotChunkBytes: 256 * 1024,
  cacheSizeBytes: 8 * 1024 * 1024,
  writeBufferSizeBytes: 4 * 1024 * 1024,
  compression: true,
  verifyTablesOnOpen: true,
} as const;

/** The four stores of one directory: they are opened and closed one by one, and share what they can. */
export interface LevelDbStorage {
  readonly logStore: LevelDbLogStore;
  readonly stableStore: LevelDbStableStore;
  readonly snapshotStore: LevelDbSnapshotStore;
  readonly backend: LevelDbBackend;
}

/** Where the stores of `directory` keep their files. */
export function storageLayout(directory: string): { raft: string; backend: string; snapshots: string } {
  return { raft: join(directory, 'raft'), backend: join(directory, 'backend'), snapshots: join(directory, 'snapshots') };
}

/** What the stores of `directory` are given: the options of its two databases and of its snapshot store. */
export interface LevelDbStorageSettings {
  readonly raft: LevelDatabaseOptions;
  readonly backend: LevelDatabaseOptions;
  readonly snapshots: LevelDbSnapshotStoreOptions;
}

export function levelDbStorageSettings(directory: string, options: Omit<LevelDbStorageOptions, 'pool'> = {}): LevelDbStorageSettings {
  const o = { ...STORAGE_DEFAULTS, ...options };
  const layout = storageLayout(directory);
  const database = (location: string, format: string): LevelDatabaseOptions => ({
    location,
    format,
    sync: !o.noSync,
    cacheSizeBytes: o.cacheSizeBytes,
    writeBufferSizeBytes: o.writeBufferSizeBytes,
    compression: o.compression,
    verifyTablesOnOpen: o.verifyTablesOnOpen,
  });
  const raft = database(layout.raft, RAFT_FORMAT);
  return {
    raft,
    backend: database(layout.backend, BACKEND_FORMAT),
    snapshots: { database: raft, directory: layout.snapshots, retain: o.retainSnapshots, chunkBytes: o.snapshotChunkBytes },
  };
}

/**
 * The stores on `directory`: the log, stable state and snapshot metadata in one LevelDB database
 * (`raft/`, so an append and a stable-state save share one fsync), the MVCC key space in another
 * (`backend/`: its unsynced write traffic and compactions stay out of the log's way, and its size
 * is its directory's), snapshot data files in `snapshots/`. Nothing is opened yet.
 */
export function createLevelDbStorage(directory: string, options: LevelDbStorageOptions = {}): LevelDbStorage {
  const { pool = levelDatabases, ...rest } = options;
  const settings = levelDbStorageSettings(directory, rest);
  return {
    logStore: new LevelDbLogStore(settings.raft, pool),
    stableStore: new LevelDbStableStore(settings.raft, pool),
    snapshotStore: new LevelDbSnapshotStore(settings.snapshots, pool),
    backend: new LevelDbBackend(settings.backend, pool),
  };
}
