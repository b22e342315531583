import { Container } from 'inversify';
import { LOG_STORE, SNAPSHOT_STORE, STABLE_STORE, type LogStore, type PluginContext, type PortName, type SnapshotStore, type StableStore } from '@cairn/core';
import { pluginContext } from '@cairn/core/testkit';
import plugin, { FILE_STORAGE_DEFAULTS, type FileStoragePluginOptions } from '../src/index.js';

/** A PluginContext of a member whose data directory is `dataDir`, choosing this plugin for `ports`. */
export function storageContext(dataDir: string, ports: readonly PortName[]): PluginContext {
  return pluginContext(dataDir, { memberId: '0000000000000001', ports });
}

/** The store the plugin binds to `token` when a config chooses it for `port` (options as the schema would fill them). */
function bound<S>(port: PortName, token: symbol, directory: string, options: Partial<FileStoragePluginOptions>): S {
  const container = new Container();
  container.load(plugin.createModule({ ...FILE_STORAGE_DEFAULTS, ...options, directory }, storageContext(directory, [port])));
  return container.get<S>(token);
}

/**
 * Builders of a DiskStoreModule (what the kit imports) that make the stores exactly as the plugin
 * binds them, with `options` over the defaults, keeping every file under the kit's directory.
 */
export function pluginStores(options: Partial<FileStoragePluginOptions> = {}): {
  createLogStore: (directory: string) => LogStore;
  createStableStore: (directory: string) => StableStore;
  createSnapshotStore: (directory: string) => SnapshotStore;
} {
  return {
    createLogStore: (directory) => bound('logStore', LOG_STORE, directory, options),
    createStableStore: (directory) => bound('stableStore', STABLE_STORE, directory, options),
    createSnapshotStore: (directory) => bound('snapshotStore', SNAPSHOT_STORE, directory, options),
  };
}
