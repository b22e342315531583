import { Container } from 'inversify';
import { BACKEND, type Backend } from '../ports/backend.js';
import { LOG_STORE, type LogStore } from '../ports/log-store.js';
import { LOGGER, type Logger } from '../ports/logger.js';
import { SNAPSHOT_STORE, type SnapshotStore } from '../ports/snapshot-store.js';
import { STABLE_STORE, type StableStore } from '../ports/stable-store.js';
import { TRANSPORT, type Transport } from '../ports/transport.js';
import { ConfigError } from './config-error.js';
import type { CairnConfig, PluginChoice } from './config-schema.js';
import { clientKeepaliveOf, parseInitialCluster } from './config-loader.js';
import type { PortName } from '../ports/plugin.js';
import { loadPlugin, type BuiltinPlugins } from './plugin-loader.js';
import { systemModule } from './system-module.js';
import { tlsSettingsOf } from './tls-config.js';

/** `{ [key]: value }` when the value is defined, `{}` otherwise (exactOptionalPropertyTypes). */
const optional = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } => (value === undefined ? {} : ({ [key]: value } as { [P in K]: V }));

export interface AssembledPorts {
  readonly container: Container;
  readonly transport: Transport;
  readonly logStore: LogStore;
  readonly stableStore: StableStore;
  readonly snapshotStore: SnapshotStore;
  readonly backend: Backend;
  readonly logger: Logger;
}

/** The plugins a config without `plugins:` gets. */
export interface DefaultPlugins {
  readonly storage: string;
  /** The log's plugin when the config names none for it (neither `plugins.logStore` nor `plugins.storage`); else `storage`. */
  readonly logStore?: string;
  /** For a single member / for a cluster. */
  readonly transportSingle: string;
  readonly transportCluster: string;
  readonly api: readonly string[];
}

const STORAGE_PORTS = ['logStore', 'stableStore', 'snapshotStore', 'backend'] as const;
const TOKENS: Record<Exclude<PortName, 'api'>, symbol> = {
  logStore: LOG_STORE,
  stableStore: STABLE_STORE,
  snapshotStore: SNAPSHOT_STORE,
  backend: BACKEND,
  transport: TRANSPORT,
};

const urls = (list: string): string[] => list.split(',');

/**
 * Load every plugin the config names (or the defaults) into `container`: each binds the ports it
 * was chosen for (and whatever contributions it makes). Checks that every port got bound.
 * Nothing is resolved or opened.
 */
export async function loadPluginModules(
  container: Container,
  config: CairnConfig,
  baseDir: string,
  dataDir: string,
  builtins: BuiltinPlugins,
  defaults: DefaultPlugins,
  identity: { clusterId: string; memberId: string },
  logger: Logger,
): Promise<void> {
  const plugins = config.plugins;
  const initialCluster = parseInitialCluster(config['initial-cluster']);
  const single = initialCluster.size === 1;
  // One entry per distinct config choice, with every port it was chosen for.
  const choices: { key: string; choice: PluginChoice; ports: PortName[] }[] = [];
  const choose = (key: string, choice: PluginChoice, port: PortName): void => {
    const same = choices.find((c) => c.choice === choice);
    if (same !== undefined) same.ports.push(port);
    else choices.push({ key, choice, ports: [port] });
  };
  const defaultStorage: PluginChoice = { use: defaults.storage };
  const defaultLog: PluginChoice = defaults.logStore === undefined ? defaultStorage : { use: defaults.logStore };
  for (const port of STORAGE_PORTS) {
    const own = plugins[port];
    if (own !== undefined) choose(`plugins.${port}`, own, port);
    else if (plugins.storage !== undefined) choose('plugins.storage', plugins.storage, port);
    else if (port === 'logStore') choose('plugins.logStore', defaultLog, port);
    else choose('plugins.storage', defaultStorage, port);
  }
  choose('plugins.transport', plugins.transport ?? { use: single ? defaults.transportSingle : defaults.transportCluster }, 'transport');
  const apis = plugins.api ?? defaults.api.map((use) => ({ use }));
  apis.forEach((choice, i) => choices.push({ key: `plugins.api[${i}]`, choice, ports: ['api'] }));
  (plugins.extensions ?? []).forEach((choice, i) => choices.push({ key: `plugins.extensions[${i}]`, choice, ports: [] }));

  const context = {
    name: config.name,
    dataDir,
    logger,
    clusterId: identity.clusterId,
    memberId: identity.memberId,
    listenClientUrls: urls(config['listen-client-urls']),
    listenPeerUrls: urls(config['listen-peer-urls']),
    initialCluster,
    clusterToken: config['initial-cluster-token'],
    advertisePeerUrls: urls(config['initial-advertise-peer-urls']),
    listenMetricsUrls: config['listen-metrics-urls'] === '' ? [] : urls(config['listen-metrics-urls']),
    limits: { maxRequestBytes: config['max-request-bytes'], maxConcurrentStreams: config['max-concurrent-streams'] },
    clientKeepalive: clientKeepaliveOf(config),
    ...optional('clientTls', tlsSettingsOf(config, 'client', baseDir)),
    ...optional('peerTls', tlsSettingsOf(config, 'peer', baseDir)),
  };
  const modules = [];
  for (const { key, choice, ports } of choices) {
    const { plugin, options } = await loadPlugin(key, choice, ports, baseDir, builtins);
    try {
      modules.push(plugin.createModule(options, { ...context, ports, logger: logger.child({ plugin: plugin.manifest.name }) }));
    } catch (err) {
      // The plugin's message names what it refused (one of its options, or a member setting such as initial-cluster).
      throw new ConfigError(`config: ${key}: plugin "${plugin.manifest.name}": ${(err as Error).message}`);
    }
  }
  // loadAsync accepts modules whose load callback returns a value or a promise.
  for (const module of modules) await container.loadAsync(module);
  for (const port of Object.keys(TOKENS) as Exclude<PortName, 'api'>[]) {
    if (!container.isBound(TOKENS[port])) {
      const key = choices.find((c) => c.ports.includes(port))!.key;
      throw new ConfigError(`config: ${key}: the plugin chosen for the ${port} port did not bind it`);
    }
  }
}

/**
 * The plugins' ports alone, in a container of their own beside the system's clock, random and
 * deferral (for commands that touch storage without running a member, e.g. snapshot restore).
 */
export async function assemblePorts(
  config: CairnConfig,
  baseDir: string,
  dataDir: string,
  builtins: BuiltinPlugins,
  defaults: DefaultPlugins,
  base: { logger: Logger; identity: { clusterId: string; memberId: string } },
): Promise<AssembledPorts> {
  const container = new Container();
  await container.loadAsync(systemModule);
  container.bind(LOGGER).toConstantValue(base.logger);
  await loadPluginModules(container, config, baseDir, dataDir, builtins, defaults, base.identity, base.logger);
  return {
    container,
    logStore: container.get<LogStore>(LOG_STORE),
    stableStore: container.get<StableStore>(STABLE_STORE),
    snapshotStore: container.get<SnapshotStore>(SNAPSHOT_STORE),
    backend: container.get<Backend>(BACKEND),
    transport: container.get<Transport>(TRANSPORT),
    logger: base.logger,
  };
}
