import { fileURLToPath } from 'node:url';
import { ContainerModule, type ServiceIdentifier } from 'inversify';
import { BUILTIN_PLUGINS } from '../assembly/cli.js';
import { loadPlugin } from '../assembly/plugin-loader.js';
import { BACKEND, type Backend } from '../ports/backend.js';
import { LOG_STORE, type LogStore } from '../ports/log-store.js';
import type { CairnPlugin } from '../ports/plugin.js';
import { STABLE_STORE, type StableStore } from '../ports/stable-store.js';
import { diskFaultsNamed, FaultyBackend, FaultyLogStore, FaultyStableStore } from './faulty-storage.js';

/** Options of the disk-fault plugin (tests only). */
export interface DiskFaultPluginOptions {
  /** The storage plugin whose ports are wrapped: a package name or an absolute path, as in `use`. */
  readonly wrap: string;
  /** The wrapped plugin's own options. */
  readonly options?: Record<string, unknown>;
  /** Name of the DiskFaults (see `diskFaultsNamed`) a test in this process arms; default: the member's name. */
  readonly faults?: string;
  /** A file another process writes a DiskFault's JSON to, to arm it (read before each write once it exists). */
  readonly armFile?: string;
}

/** Where the plugin's module is, for `use:` in a config (a test assembles a member or starts `cairn` with it). */
export const DISK_FAULT_PLUGIN_PATH = fileURLToPath(import.meta.url);

const WRAPPED: ReadonlyMap<ServiceIdentifier, symbol> = new Map([
  [LOG_STORE, Symbol('cairn.test.WrappedLogStore')],
  [STABLE_STORE, Symbol('cairn.test.WrappedStableStore')],
  [BACKEND, Symbol('cairn.test.WrappedBackend')],
]);

/**
 * A storage plugin that loads another one and puts a Faulty* wrapper in front of each LogStore,
 * StableStore and Backend it binds, so disk faults reach every storage plugin at the port, the
 * same way: `plugins: { storage: { use: DISK_FAULT_PLUGIN_PATH, wrap: "@cairn/storage-lmdb" } }`.
 * Snapshot stores pass through unwrapped.
 */
export const diskFaultPlugin: CairnPlugin<DiskFaultPluginOptions> = {
  manifest: {
    name: '@cairn/core/testkit/disk-faults',
    provides: ['logStore', 'stableStore', 'snapshotStore', 'backend'],
    optionsSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['wrap'],
      properties: {
        wrap: { type: 'string', minLength: 1 },
        options: { type: 'object' },
        faults: { type: 'string', minLength: 1 },
        armFile: { type: 'string', minLength: 1 },
      },
    },
  },
  createModule(options, context) {
    const faults = diskFaultsNamed(options.faults ?? context.name, options.armFile);
    return new ContainerModule(async (load) => {
      const { plugin, options: innerOptions } = await loadPlugin(
        'disk-faults.wrap',
        { use: options.wrap, ...options.options },
        context.ports,
        process.cwd(),
        BUILTIN_PLUGINS,
      );
      const inner = plugin.createModule(innerOptions, context);
      const bound = new Set<ServiceIdentifier>();
      // The wrapped plugin binds its ports under tokens of ours; the ports themselves go to the wrappers.
      await inner.load({
        ...load,
        bind: <T>(id: ServiceIdentifier<T>) => {
          const hidden = WRAPPED.get(id);
          if (hidden === undefined) return load.bind<T>(id);
          bound.add(id);
          return load.bind<T>(hidden);
        },
      });
      if (bound.has(LOG_STORE)) {
        load
          .bind(LOG_STORE)
          .toDynamicValue((ctx) => new FaultyLogStore(ctx.get<LogStore>(WRAPPED.get(LOG_STORE)!), faults))
          .inSingletonScope();
      }
      if (bound.has(STABLE_STORE)) {
        load
          .bind(STABLE_STORE)
          .toDynamicValue((ctx) => new FaultyStableStore(ctx.get<StableStore>(WRAPPED.get(STABLE_STORE)!), faults))
          .inSingletonScope();
      }
      if (bound.has(BACKEND)) {
        load
          .bind(BACKEND)
          .toDynamicValue((ctx) => new FaultyBackend(ctx.get<Backend>(WRAPPED.get(BACKEND)!), faults))
          .inSingletonScope();
      }
    });
  },
};

export default diskFaultPlugin;
