import { isAbsolute, resolve } from 'node:path';
import { ContainerModule } from 'inversify';
import { BACKEND, LOG_STORE, PluginEntryBindings, SNAPSHOT_STORE, STABLE_STORE, type CairnPlugin } from '@cairn/core';
import { LevelDbBackend } from './leveldb-backend.js';
import { LevelDbLogStore } from './leveldb-log-store.js';
import { LevelDbSnapshotStore } from './leveldb-snapshot-store.js';
import { LevelDbStableStore } from './leveldb-stable-store.js';
import { STORAGE_DEFAULTS, levelDbStorageSettings } from './leveldb-storage.js';
import { LEVELDB_BACKEND_DATABASE, LEVELDB_RAFT_DATABASE, LEVELDB_SNAPSHOT_STORE_OPTIONS } from './tokens.js';

/** Options of `plugins.storage: { use: "@cairn/storage-leveldb", ... }` (defaults filled in by the schema). */
export interface LevelDbPluginOptions {
  /** Where the stores live; a relative path is taken inside the member's data directory. */
  readonly directory?: string;
  readonly noSync?: boolean;
  readonly retainSnapshots?: number;
  readonly snapshotChunkBytes?: number;
  readonly cacheSizeBytes?: number;
  readonly writeBufferSizeBytes?: number;
  readonly compression?: boolean;
  readonly verifyTablesOnOpen?: boolean;
}

const DEFAULT_DIRECTORY = 'leveldb';

/** The log, stable, snapshot and backend ports on LevelDB as a Cairn plugin. */
const levelDbStoragePlugin: CairnPlugin<LevelDbPluginOptions> = {
  manifest: {
    name: '@cairn/storage-leveldb',
    provides: ['logStore', 'stableStore', 'snapshotStore', 'backend'],
    optionsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        directory: {
          type: 'string',
          minLength: 1,
          default: DEFAULT_DIRECTORY,
          description: 'Directory of the LevelDB databases and snapshot files; a relative path is resolved inside --data-dir.',
        },
        noSync: {
          type: 'boolean',
          default: STORAGE_DEFAULTS.noSync,
          description: 'Never fsync. For tests only: a machine crash then loses acknowledged writes.',
        },
        retainSnapshots: { type: 'integer', minimum: 1, default: STORAGE_DEFAULTS.retainSnapshots, description: 'How many of the newest snapshots to keep.' },
        snapshotChunkBytes: {
          type: 'integer',
          minimum: 4096,
          maximum: 16777216,
          default: STORAGE_DEFAULTS.snapshotChunkBytes,
          description: 'Bytes per chunk when a snapshot is read out.',
        },
        cacheSizeBytes: {
          type: 'integer',
          minimum: 0,
          maximum: 4294967295,
          default: STORAGE_DEFAULTS.cacheSizeBytes,
          description: 'LevelDB block cache of each database.',
        },
        writeBufferSizeBytes: {
          type: 'integer',
          minimum: 65536,
          maximum: 4294967295,
          default: STORAGE_DEFAULTS.writeBufferSizeBytes,
          description: 'LevelDB memtable of each database: larger writes faster, replays longer on open.',
        },
        compression: { type: 'boolean', default: STORAGE_DEFAULTS.compression, description: 'Snappy compression of LevelDB table blocks.' },
        verifyTablesOnOpen: {
          type: 'boolean',
          default: STORAGE_DEFAULTS.verifyTablesOnOpen,
          description: 'Check the checksum of every LevelDB table block on open (reads each database once); the write-ahead logs are always checked.',
        },
      },
    },
  },
  createModule(options, context) {
    const directory = options.directory ?? DEFAULT_DIRECTORY;
    const location = isAbsolute(directory) ? directory : resolve(context.dataDir, directory);
    const settings = levelDbStorageSettings(location, {
      ...(options.noSync === undefined ? {} : { noSync: options.noSync }),
      ...(options.retainSnapshots === undefined ? {} : { retainSnapshots: options.retainSnapshots }),
      ...(options.snapshotChunkBytes === undefined ? {} : { snapshotChunkBytes: options.snapshotChunkBytes }),
      ...(options.cacheSizeBytes === undefined ? {} : { cacheSizeBytes: options.cacheSizeBytes }),
      ...(options.writeBufferSizeBytes === undefined ? {} : { writeBufferSizeBytes: options.writeBufferSizeBytes }),
      ...(options.compression === undefined ? {} : { compression: options.compression }),
      ...(options.verifyTablesOnOpen === undefined ? {} : { verifyTablesOnOpen: options.verifyTablesOnOpen }),
    });
    const wanted = (port: (typeof context.ports)[number]): boolean => context.ports.includes(port);
    return new ContainerModule(({ bind }) => {
      // The config may choose this plugin in two entries (the log in one directory, the rest in
      // another): each entry's stores get its own options. LevelDatabasePool is left unbound: the
      // stores then share the process's pool, which opens each directory once, for every entry
      // and every member of the process.
      const entry = new PluginEntryBindings(bind, location);
      entry.value(LEVELDB_RAFT_DATABASE, settings.raft);
      entry.value(LEVELDB_BACKEND_DATABASE, settings.backend);
      entry.value(LEVELDB_SNAPSHOT_STORE_OPTIONS, settings.snapshots);
      if (wanted('logStore')) entry.port(LOG_STORE, LevelDbLogStore);
      if (wanted('stableStore')) entry.port(STABLE_STORE, LevelDbStableStore);
      if (wanted('snapshotStore')) entry.port(SNAPSHOT_STORE, LevelDbSnapshotStore);
      if (wanted('backend')) entry.port(BACKEND, LevelDbBackend);
    });
  },
};

export default levelDbStoragePlugin;
