import { resolve } from 'node:path';
import { ContainerModule } from 'inversify';
import { BACKEND, LOG_STORE, PluginEntryBindings, SNAPSHOT_STORE, STABLE_STORE, type CairnPlugin, type PortName } from '@cairn/core';
import { LmdbBackend } from './lmdb-backend.js';
import { LmdbEnvironment, type LmdbEnvironmentOptions } from './lmdb-environment.js';
import { LmdbLogStore } from './lmdb-log-store.js';
import { LmdbSnapshotStore, type LmdbSnapshotStoreOptions } from './lmdb-snapshot-store.js';
import { LmdbStableStore } from './lmdb-stable-store.js';
import { LMDB_ENVIRONMENT_OPTIONS, LMDB_SNAPSHOT_STORE_OPTIONS } from './tokens.js';

/** Options of `plugins.storage: { use: "@cairn/storage-lmdb", ... }` (or of any one storage port). */
export interface LmdbPluginOptions {
  /** The environment's directory; relative paths resolve from the member's data directory. Default `lmdb`. */
  readonly directory?: string;
  /** Initial size of LMDB's memory map in bytes; LMDB grows it as the data grows. */
  readonly mapSize?: number;
  /** Never fsync. Loses acknowledged writes when the machine crashes: tests only. */
  readonly noSync?: boolean;
  /** Snapshots kept (the most recently saved ones). */
  readonly retainSnapshots?: number;
  /** Bytes of snapshot data per stored chunk. */
  readonly snapshotChunkBytes?: number;
  /** Read transactions open at once (read views, ranges, snapshot reads). */
  readonly maxReaders?: number;
  /** Walk data.mdb in a child process before mapping it, so a damaged file is an error instead of a crash. */
  readonly verifyOnOpen?: boolean;
}

export const LMDB_DEFAULTS = {
  directory: 'lmdb',
  mapSize: 1 << 30,
  noSync: false,
  retainSnapshots: 2,
  snapshotChunkBytes: 1 << 20,
  maxReaders: 126,
  verifyOnOpen: true,
} as const;

/** The four storage ports of one member, sharing one environment. */
export interface LmdbStorage {
  readonly environment: LmdbEnvironment;
  readonly logStore: LmdbLogStore;
  readonly stableStore: LmdbStableStore;
  readonly snapshotStore: LmdbSnapshotStore;
  readonly backend: LmdbBackend;
}

type StorageOptions = Omit<LmdbPluginOptions, 'directory'> & { readonly logElsewhere?: boolean };

function environmentOptions(directory: string, options: StorageOptions): LmdbEnvironmentOptions {
  return {
    directory,
    mapSize: options.mapSize ?? LMDB_DEFAULTS.mapSize,
    noSync: options.noSync ?? LMDB_DEFAULTS.noSync,
    maxReaders: options.maxReaders ?? LMDB_DEFAULTS.maxReaders,
    verifyOnOpen: options.verifyOnOpen ?? LMDB_DEFAULTS.verifyOnOpen,
    logElsewhere: options.logElsewhere ?? false,
  };
}

function snapshotStoreOptions(options: StorageOptions): LmdbSnapshotStoreOptions {
  return {
    retain: options.retainSnapshots ?? LMDB_DEFAULTS.retainSnapshots,
    chunkBytes: options.snapshotChunkBytes ?? LMDB_DEFAULTS.snapshotChunkBytes,
  };
}

/** Every storage port on one LMDB environment in `directory` (nothing is opened yet). */
export function createLmdbStorage(directory: string, options: StorageOptions = {}): LmdbStorage {
  const environment = new LmdbEnvironment(environmentOptions(directory, options));
  return {
    environment,
    logStore: new LmdbLogStore(environment),
    stableStore: new LmdbStableStore(environment),
    snapshotStore: new LmdbSnapshotStore(environment, snapshotStoreOptions(options)),
    backend: new LmdbBackend(environment),
  };
}

/** The LMDB storage plugin: binds LOG_STORE, STABLE_STORE, SNAPSHOT_STORE and BACKEND for the ports the config chose it for. */
export const lmdbStoragePlugin: CairnPlugin<LmdbPluginOptions> = {
  manifest: {
    name: '@cairn/storage-lmdb',
    provides: ['logStore', 'stableStore', 'snapshotStore', 'backend'],
    optionsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        directory: {
          type: 'string',
          minLength: 1,
          default: LMDB_DEFAULTS.directory,
          description: 'Directory of the LMDB environment (data.mdb, lock.mdb); a relative path resolves from --data-dir.',
        },
        mapSize: {
          type: 'integer',
          minimum: 1 << 20,
          default: LMDB_DEFAULTS.mapSize,
          description: 'Initial size of the memory map in bytes; LMDB grows it when the data needs more. Address space only, not disk.',
        },
        noSync: {
          type: 'boolean',
          default: LMDB_DEFAULTS.noSync,
          description: 'Never fsync. A crash of the machine then loses acknowledged writes: for tests only.',
        },
        retainSnapshots: {
          type: 'integer',
          minimum: 1,
          default: LMDB_DEFAULTS.retainSnapshots,
          description: 'How many of the most recently saved snapshots to keep.',
        },
        snapshotChunkBytes: {
          type: 'integer',
          minimum: 4096,
          maximum: 64 << 20,
          default: LMDB_DEFAULTS.snapshotChunkBytes,
          description: 'Bytes of snapshot data per stored chunk: what a snapshot save or read holds in memory at once, a few times over.',
        },
        maxReaders: {
          type: 'integer',
          minimum: 8,
          default: LMDB_DEFAULTS.maxReaders,
          description: 'Read transactions open at once: read views, ranges and snapshot reads in progress.',
        },
        verifyOnOpen: {
          type: 'boolean',
          default: LMDB_DEFAULTS.verifyOnOpen,
          description:
            'Before mapping data.mdb, read every page of it in a child process: LMDB has no page checksums and crashes on a damaged page, so this turns damage into an error naming the file. Costs one read of the file at a start after a crash or after anything wrote the file since its last clean close.',
        },
      },
    },
  },
  createModule(options, context) {
    const { directory, ...rest } = options;
    const wanted = (port: PortName): boolean => context.ports.includes(port);
    // Holding the stable state without the log: a log left here from before would be lost, so it is refused.
    const logElsewhere = !wanted('logStore') && wanted('stableStore');
    const environment = environmentOptions(resolve(context.dataDir, directory ?? LMDB_DEFAULTS.directory), { ...rest, logElsewhere });
    return new ContainerModule(({ bind }) => {
      // The config may choose this plugin in two entries (the log in one directory, the rest in
      // another): each entry's stores get their own options and LMDB environment.
      const entry = new PluginEntryBindings(bind, environment.directory);
      entry.value(LMDB_ENVIRONMENT_OPTIONS, environment);
      entry.value(LMDB_SNAPSHOT_STORE_OPTIONS, snapshotStoreOptions(rest));
      entry.shared(LmdbEnvironment);
      if (wanted('logStore')) entry.port(LOG_STORE, LmdbLogStore);
      if (wanted('stableStore')) entry.port(STABLE_STORE, LmdbStableStore);
      if (wanted('snapshotStore')) entry.port(SNAPSHOT_STORE, LmdbSnapshotStore);
      if (wanted('backend')) entry.port(BACKEND, LmdbBackend);
    });
  },
};
