import { Container } from 'inversify';
import { CLOCK } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import { LOGGER } from '../ports/logger.js';
import type { PluginContext } from '../ports/plugin.js';
import { RANDOM } from '../ports/random.js';
import { MemoryLogger } from './memory/memory-logger.js';
import { SeededRandom } from './memory/seeded-random.js';
import { VirtualClock } from './memory/virtual-clock.js';

/**
 * What the assembly tells a plugin, for a plugin's unit tests: a member `n1` whose data dir is
 * `dataDir` and whose cluster and URLs are not told (empty), with whatever the test overrides (the
 * ports it is chosen for, listen URLs, the initial cluster...).
 */
export function pluginContext(dataDir: string, overrides: Partial<PluginContext> = {}): PluginContext {
  return {
    name: 'n1',
    clusterId: 'c0ffee0000000001',
    memberId: '000000000000000a',
    dataDir,
    ports: [],
    listenClientUrls: [],
    listenPeerUrls: [],
    initialCluster: new Map(),
    clusterToken: 'etcd-cluster',
    advertisePeerUrls: [],
    listenMetricsUrls: [],
    limits: { maxRequestBytes: 1 << 20, maxConcurrentStreams: 4294967295 },
    clientKeepalive: { intervalMs: 2 * 60 * 60 * 1000, timeoutMs: 20_000, minTimeMs: 5000 },
    logger: new MemoryLogger(),
    ...overrides,
  };
}

/**
 * A container as the assembly starts one before it loads a plugin's module: the core's clock,
 * logger and random bound (a virtual clock, a memory logger unless given, a seeded random).
 */
export function pluginTestContainer(options: { readonly logger?: Logger } = {}): Container {
  const container = new Container();
  container.bind(CLOCK).toConstantValue(new VirtualClock());
  container.bind(LOGGER).toConstantValue(options.logger ?? new MemoryLogger());
  container.bind(RANDOM).toConstantValue(new SeededRandom(1));
  return container;
}
