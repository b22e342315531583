import { isAbsolute, join, resolve } from 'node:path';
import { ContainerModule } from 'inversify';
import { LOG_STORE, PluginEntryBindings, SNAPSHOT_STORE, STABLE_STORE, type CairnPlugin, type PortName } from '@cairn/core';
import { FileLogStore } from './file-log-store.js';
import { FileSnapshotStore } from './file-snapshot-store.js';
import { FileStableStore } from './file-stable-store.js';
import { FILE_LOG_STORE_OPTIONS, FILE_SNAPSHOT_DIRECTORY, FILE_SNAPSHOT_STORE_OPTIONS, FILE_STORAGE_DIRECTORY } from './tokens.js';

/** Options of `plugins.logStore: { use: "<path to this package>", ... }` (the schema fills in the defaults). */
export interface FileStoragePluginOptions {
  /** Where the stores live; a relative path is taken inside the member's data directory. */
  readonly directory: string;
  /** How many of the most recently saved snapshots to keep. */
  readonly retainSnapshots: number;
  /** The log file is rewritten when a compaction leaves less than half of it live and it has at least this many bytes. */
  readonly logRewriteMinBytes: number;
}

/** What the schema fills in for options the config leaves out. */
export const FILE_STORAGE_DEFAULTS: FileStoragePluginOptions = { directory: 'file-storage', retainSnapshots: 2, logRewriteMinBytes: 1 << 20 };

/**
 * The log, stable and snapshot ports on plain files, as a Cairn plugin. It does not provide a
 * backend: a config takes that from another plugin. Layout under `directory`: `log.dat`,
 * `stable`, `snapshots/<index>-<number>.snap`.
 */
const fileStoragePlugin: CairnPlugin<FileStoragePluginOptions> = {
  manifest: {
    name: 'cairn-example-file-storage',
    provides: ['logStore', 'stableStore', 'snapshotStore'],
    optionsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        directory: {
          type: 'string',
          minLength: 1,
          default: FILE_STORAGE_DEFAULTS.directory,
          description: 'Directory of log.dat, stable and snapshots/; a relative path is resolved inside --data-dir.',
        },
        retainSnapshots: {
          type: 'integer',
          minimum: 1,
          default: FILE_STORAGE_DEFAULTS.retainSnapshots,
          description: 'How many of the most recently saved snapshots to keep.',
        },
        logRewriteMinBytes: {
          type: 'integer',
          minimum: 0,
          default: FILE_STORAGE_DEFAULTS.logRewriteMinBytes,
          description: 'Rewrite log.dat once a compaction leaves less than half of it live, if it has at least this many bytes.',
        },
      },
    },
  },
  createModule(options, context) {
    const directory = isAbsolute(options.directory) ? options.directory : resolve(context.dataDir, options.directory);
    const wanted = (port: PortName): boolean => context.ports.includes(port);
    return new ContainerModule(({ bind }) => {
      // The config may choose this plugin in two entries (say the log in one directory, the rest
      // in another): each entry's stores get their own values.
      const entry = new PluginEntryBindings(bind, directory);
      entry.value(FILE_STORAGE_DIRECTORY, directory);
      entry.value(FILE_SNAPSHOT_DIRECTORY, join(directory, 'snapshots'));
      entry.value(FILE_LOG_STORE_OPTIONS, { rewriteMinBytes: options.logRewriteMinBytes });
      entry.value(FILE_SNAPSHOT_STORE_OPTIONS, { retain: options.retainSnapshots });
      // Only the ports the config chose this plugin for: the others may come from other plugins.
      if (wanted('logStore')) entry.port(LOG_STORE, FileLogStore);
      if (wanted('stableStore')) entry.port(STABLE_STORE, FileStableStore);
      if (wanted('snapshotStore')) entry.port(SNAPSHOT_STORE, FileSnapshotStore);
    });
  },
};

export default fileStoragePlugin;
