import { resolve } from 'node:path';
import { ContainerModule } from 'inversify';
import { LOG_STORE, type CairnPlugin } from '@cairn/core';
import { WAL_DIRECTORY, WAL_OPTIONS } from './tokens.js';
import { WalLogStore, type WalLogStoreOptions } from './wal-log-store.js';

/** Options of `plugins.logStore: { use: "@cairn/storage-wal", ... }`. */
export interface WalPluginOptions {
  /** Directory of the segment files; relative paths resolve from the member's data directory. Default `wal`. */
  readonly directory?: string;
  readonly segmentBytes?: number;
  readonly inlineSyncEntries?: number;
  readonly cacheBytes?: number;
}

export const WAL_DEFAULTS = {
  directory: 'wal',
  segmentBytes: 64 << 20,
  inlineSyncEntries: 1,
  cacheBytes: 16 << 20,
} as const;

/** The store's options: the plugin's defaults for what `options` leaves out. */
function walLogStoreOptions(options: Omit<WalPluginOptions, 'directory'>): WalLogStoreOptions {
  return {
    segmentBytes: options.segmentBytes ?? WAL_DEFAULTS.segmentBytes,
    inlineSyncEntries: options.inlineSyncEntries ?? WAL_DEFAULTS.inlineSyncEntries,
    cacheBytes: options.cacheBytes ?? WAL_DEFAULTS.cacheBytes,
  };
}

/** An unopened WAL log store in `directory`, the plugin's defaults for what `options` leaves out. */
export function createWalLogStore(directory: string, options: Omit<WalPluginOptions, 'directory'> = {}): WalLogStore {
  return new WalLogStore(directory, walLogStoreOptions(options));
}

/** The WAL plugin: binds LOG_STORE. The other storage ports come from another plugin. */
export const walStoragePlugin: CairnPlugin<WalPluginOptions> = {
  manifest: {
    name: '@cairn/storage-wal',
    provides: ['logStore'],
    optionsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        directory: {
          type: 'string',
          minLength: 1,
          default: WAL_DEFAULTS.directory,
          description: 'Directory of the segment files; a relative path resolves from --data-dir.',
        },
        segmentBytes: {
          type: 'integer',
          minimum: 4096,
          default: WAL_DEFAULTS.segmentBytes,
          description: 'Size at which a segment file is closed and the next begun; a compaction deletes the segments it emptied.',
        },
        inlineSyncEntries: {
          type: 'integer',
          minimum: 0,
          default: WAL_DEFAULTS.inlineSyncEntries,
          description:
            'Appends of at most this many entries, while no other write is in flight, are written and fdatasynced on the main thread (lowest latency for a lone writer); larger ones go through the thread pool. 0: always the thread pool.',
        },
        cacheBytes: {
          type: 'integer',
          minimum: 0,
          default: WAL_DEFAULTS.cacheBytes,
          description: 'Data bytes of the newest entries held in memory for reads; older entries are read from the segment files.',
        },
      },
    },
  },
  createModule(options, context) {
    const { directory, ...rest } = options;
    return new ContainerModule(({ bind }) => {
      if (!context.ports.includes('logStore')) return;
      bind(WAL_DIRECTORY).toConstantValue(resolve(context.dataDir, directory ?? WAL_DEFAULTS.directory));
      bind(WAL_OPTIONS).toConstantValue(walLogStoreOptions(rest));
      bind(LOG_STORE).to(WalLogStore).inSingletonScope();
    });
  },
};
