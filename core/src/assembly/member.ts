import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { Random } from '../ports/random.js';
import { RaftNode } from '../raft/node.js';
import type { CairnServices } from '../api/services.js';
import { assemblePorts, storageLifecycles, type AssembledPorts, type DefaultPlugins } from './assembled-ports.js';
import { ConfigError } from './config-error.js';
import { parseInitialCluster } from './config-loader.js';
import type { CairnConfig } from './config-schema.js';
import type { ApplicationInstance, ClusterMemberInfo, MemberApplication } from './member-application.js';
import { clusterIdOf, memberIdOf } from '../cluster/member-id.js';
import type { BuiltinPlugins } from './plugin-loader.js';

export interface MemberOptions {
  readonly config: CairnConfig;
  /** Where relative paths (data dir, plugin paths) resolve from. */
  readonly baseDir: string;
  readonly application: MemberApplication;
  readonly builtins: BuiltinPlugins;
  readonly defaults: DefaultPlugins;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random: Random;
}

/** A running member: its Raft node, application and frontends, stopped in reverse order. */
export class Member {
  private stopped = false;

  private constructor(
    readonly node: RaftNode,
    readonly services: CairnServices,
    readonly ports: AssembledPorts,
    private readonly app: ApplicationInstance,
    private readonly logger: Logger,
  ) {}

  static async start(options: MemberOptions): Promise<Member> {
    const { config, logger } = options;
    const dataDir = resolve(options.baseDir, config['data-dir']);
    try {
      await mkdir(dataDir, { recursive: true });
    } catch (err) {
      throw new ConfigError(`config: data-dir: cannot create ${dataDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }

    const token = config['initial-cluster-token'];
    const founders: ClusterMemberInfo[] = [...parseInitialCluster(config['initial-cluster'])].map(([name, peerUrls]) => ({
      id: memberIdOf(peerUrls, token), name, peerUrls,
      clientUrls: name === config.name ? config['advertise-client-urls'].split(',') : [],
    }));
    const self = founders.find((m) => m.name === config.name)
      ?? { id: memberIdOf(config['initial-advertise-peer-urls'].split(','), token), name: config.name, peerUrls: config['initial-advertise-peer-urls'].split(','), clientUrls: config['advertise-client-urls'].split(',') };
    const join = config['initial-cluster-state'] === 'existing';
    // A new cluster's ID follows from its founders; a member joining one learns it from the
    // cluster (and keeps it in its stable store), so it starts unknown ('').
    const clusterId = join ? '' : clusterIdOf(founders.map((m) => m.id));
    const identity = { clusterId, memberId: self.id, name: config.name };
    const ports = await assemblePorts(config, options.baseDir, dataDir, options.builtins, options.defaults, { ...options, identity: { clusterId, memberId: self.id } });
    const memberLogger = logger.child({ name: config.name });

    const opened: { close(): Promise<void> }[] = [];
    try {
      for (const store of storageLifecycles(ports)) {
        await store.open();
        opened.push(store);
      }
      const app = await options.application.create({
        config, backend: ports.backend, clock: ports.clock, logger: memberLogger, identity,
        members: founders.some((m) => m.id === self.id) ? founders : [...founders, self],
      });
      opened.push(app);
      const heartbeat = config['heartbeat-interval'];
      const node = new RaftNode({
        id: self.id,
        peers: new Map(founders.map((m) => [m.id, m.peerUrls])),
        join,
        ...(join ? {} : { clusterId }),
        raft: { electionTick: Math.max(2, Math.round(config['election-timeout'] / heartbeat)), heartbeatTick: 1 },
        ports: {
          transport: ports.transport, logStore: ports.logStore, stableStore: ports.stableStore, snapshotStore: ports.snapshotStore,
          clock: ports.clock, logger: memberLogger, random: ports.random,
        },
        stateMachine: app.stateMachine,
        tickMs: heartbeat,
        snapshotCount: config['snapshot-count'],
        snapshotCatchUpEntries: config['snapshot-catchup-entries'],
      });
      const services = app.services(node);
      await node.start();
      const member = new Member(node, services, ports, app, memberLogger);
      for (const api of ports.apis) {
        try {
          await api.start(services);
        } catch (err) {
          await member.stop();
          throw err;
        }
      }
      memberLogger.info({ member: self.id, cluster: clusterId, dataDir, clientUrls: config['listen-client-urls'] }, 'member ready to serve clients');
      return member;
    } catch (err) {
      for (const o of opened.reverse()) await o.close().catch(() => undefined);
      throw err;
    }
  }

  /** Stop serving, stop Raft, close the application and storage. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const api of [...this.ports.apis].reverse()) await api.stop().catch((err: unknown) => this.logger.warn({ error: String(err) }, 'frontend did not stop cleanly'));
    await this.node.stop();
    await this.app.close();
    for (const store of storageLifecycles(this.ports).reverse()) await store.close();
    this.logger.info({}, 'member stopped');
  }
}
