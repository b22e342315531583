import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Container, type ContainerModule } from 'inversify';
import { WATCH_LIMITS } from '../mvcc/watch-hub.js';
import { CAIRN_SERVICES, type CairnServices } from '../api/services.js';
import type { WatchLimits } from '../api/watch-types.js';
import { FOUNDING_MEMBERS, type ClusterMemberInfo } from '../cluster/cluster-member-info.js';
import { clusterIdOf, memberIdOf } from '../cluster/member-id.js';
import { LESSOR_OPTIONS, type LessorOptions } from '../lease/lessor.js';
import { API_FRONTEND, type ApiFrontend } from '../ports/api-frontend.js';
import { ENVIRONMENT, type Environment } from '../ports/environment.js';
import { LIFECYCLE_PARTICIPANT, type LifecycleParticipant } from '../ports/lifecycle-participant.js';
import { LOGGER, type Logger } from '../ports/logger.js';
import { MEMBER_IDENTITY, type MemberIdentity } from '../ports/member-identity.js';
import { MEMBER_SETTINGS, type MemberSettings } from '../ports/member-settings.js';
import { RAFT_NODE_CONFIG, type RaftNodeConfig } from '../raft/node-config.js';
import { RaftNode } from '../raft/node.js';
import { loadPluginModules, type DefaultPlugins } from './assembled-ports.js';
import { ConfigError } from './config-error.js';
import { holdsMemberState, learnIdentityFromCluster, readJoinedIdentity, saveJoinedIdentity, type JoinedIdentity } from './join-identity.js';
import { leaseCheckpointIntervalMs, parseInitialCluster } from './config-loader.js';
import type { CairnConfig } from './config-schema.js';
import { ApiFrontendParticipant } from './lifecycle-participants.js';
import { LifecycleRunner } from './lifecycle-runner.js';
import type { BuiltinPlugins } from './plugin-loader.js';
import { raftModule } from './raft-module.js';
import { systemModule } from './system-module.js';

export interface MemberOptions {
  readonly config: CairnConfig;
  /** Where relative paths (data dir, plugin paths) resolve from. */
  readonly baseDir: string;
  /** What runs on top of Raft: a module binding STATE_MACHINE, CAIRN_SERVICES and their parts (`etcdApplication`). */
  readonly application: ContainerModule;
  readonly builtins: BuiltinPlugins;
  readonly defaults: DefaultPlugins;
  readonly logger: Logger;
  /** The process environment (only settings tests shorten are read from it). */
  readonly environment?: Environment;
  /**
   * Loaded after the core's and the plugins' modules: the simulator and in-process test clusters
   * rebind CLOCK, RANDOM, DEFERRAL, TRANSPORT or the storage tokens here, and nothing else changes.
   */
  readonly overrides?: readonly ContainerModule[];
  /** Resolves when the process is asked to stop: a member still waiting to learn its ID gives up. */
  readonly stopRequested?: Promise<string>;
}

/** Tests shorten etcd's 10-minute progress_notify interval with CAIRN_WATCH_PROGRESS_NOTIFY_INTERVAL_MS. */
function watchLimitsFrom(environment: Environment): Partial<WatchLimits> {
  const interval = Number(environment['CAIRN_WATCH_PROGRESS_NOTIFY_INTERVAL_MS']);
  return Number.isInteger(interval) && interval > 0 ? { progressIntervalMs: interval } : {};
}

/**
 * The member's founders, itself, and its identity, as etcd derives them from the flags; a member
 * that joined under an ID the cluster gave it (`joined`: etcd's `member add` mixes the time in) is
 * that ID in the cluster that gave it.
 */
export function memberTopology(
  config: CairnConfig,
  joined?: JoinedIdentity,
): { founders: ClusterMemberInfo[]; self: ClusterMemberInfo; identity: MemberIdentity; join: boolean } {
  const token = config['initial-cluster-token'];
  const listed: ClusterMemberInfo[] = [...parseInitialCluster(config['initial-cluster'])].map(([name, peerUrls]) => ({
    id: memberIdOf(peerUrls, token),
    name,
    peerUrls,
    clientUrls: name === config.name ? config['advertise-client-urls'].split(',') : [],
  }));
  const founders = joined === undefined ? listed : listed.map((m) => (m.name === config.name ? { ...m, id: joined.memberId } : m));
  const self = founders.find((m) => m.name === config.name) ?? {
    id: joined?.memberId ?? memberIdOf(config['initial-advertise-peer-urls'].split(','), token),
    name: config.name,
    peerUrls: config['initial-advertise-peer-urls'].split(','),
    clientUrls: config['advertise-client-urls'].split(','),
  };
  const join = config['initial-cluster-state'] === 'existing';
  // A new cluster's ID follows from its founders; a member joining one learns it from the
  // cluster (and keeps it in its stable store), so it starts unknown ('') unless it learned it.
  const clusterId = join ? (joined?.clusterId ?? '') : clusterIdOf(founders.map((m) => m.id));
  return { founders, self, identity: { clusterId, memberId: self.id, name: config.name }, join };
}

/** The values the kernel's components inject, from the validated config. */
function bindMemberValues(container: Container, config: CairnConfig, logger: Logger, environment: Environment, joined?: JoinedIdentity): MemberIdentity {
  const { founders, self, identity, join } = memberTopology(config, joined);
  const heartbeat = config['heartbeat-interval'];
  const settings: MemberSettings = {
    heartbeatIntervalMs: heartbeat,
    electionTimeoutMs: config['election-timeout'],
    maxTxnOps: config['max-txn-ops'],
    maxRequestBytes: config['max-request-bytes'],
    quotaBackendBytes: config['quota-backend-bytes'],
    initialClusterToken: config['initial-cluster-token'],
    advertiseClientUrls: config['advertise-client-urls'].split(','),
    authToken: config['auth-token'],
    authTokenTtlSeconds: config['auth-token-ttl'],
    bcryptCost: config['bcrypt-cost'],
  };
  const raft: RaftNodeConfig = {
    id: self.id,
    peers: new Map(founders.map((m) => [m.id, m.peerUrls])),
    join,
    ...(identity.clusterId === '' ? {} : { clusterId: identity.clusterId }),
    raft: { electionTick: Math.max(2, Math.round(config['election-timeout'] / heartbeat)), heartbeatTick: 1 },
    tickMs: heartbeat,
    snapshotCount: config['snapshot-count'],
    snapshotCatchUpEntries: config['snapshot-catchup-entries'],
  };
  const lessor: LessorOptions = {
    electionTimeoutMs: config['election-timeout'],
    checkpointEnabled: config['experimental-enable-lease-checkpoint'],
    checkpointIntervalMs: leaseCheckpointIntervalMs(config),
  };
  container.bind(LOGGER).toConstantValue(logger);
  container.bind(ENVIRONMENT).toConstantValue(environment);
  container.bind(MEMBER_IDENTITY).toConstantValue(identity);
  container.bind(MEMBER_SETTINGS).toConstantValue(settings);
  container.bind(FOUNDING_MEMBERS).toConstantValue(founders.some((m) => m.id === self.id) ? founders : [...founders, self]);
  container.bind(RAFT_NODE_CONFIG).toConstantValue(raft);
  container.bind(LESSOR_OPTIONS).toConstantValue(lessor);
  container.bind(WATCH_LIMITS).toConstantValue(watchLimitsFrom(environment));
  return identity;
}

/** What a member's container is made from, plugins aside. */
export interface MemberContainerOptions {
  readonly config: CairnConfig;
  readonly application: ContainerModule;
  /** The member's logger (its lines carry the member's name). */
  readonly logger: Logger;
  readonly environment?: Environment;
  /** The IDs the cluster gave this member when it joined (see join-identity.ts); else they follow from the flags. */
  readonly joined?: JoinedIdentity;
}

/**
 * A container with the member's values, the system ports, Raft and the application bound: what
 * is left to bind are the transport and storage ports (plugins, or a test's memory ports).
 */
export async function createMemberContainer(options: MemberContainerOptions): Promise<{ container: Container; identity: MemberIdentity }> {
  const container = new Container();
  const identity = bindMemberValues(container, options.config, options.logger, options.environment ?? {}, options.joined);
  await container.loadAsync(systemModule, raftModule, options.application);
  return { container, identity };
}

/** A running member: the container that assembled it, and its participants, stopped in reverse order. */
export class Member {
  private stopped = false;

  private constructor(
    readonly container: Container,
    readonly node: RaftNode,
    readonly services: CairnServices,
    private readonly lifecycle: LifecycleRunner,
    private readonly logger: Logger,
  ) {}

  /** Assemble a member from its config (plugins loaded by name) and start it. */
  static async start(options: MemberOptions): Promise<Member> {
    const { config } = options;
    const dataDir = resolve(options.baseDir, config['data-dir']);
    try {
      await mkdir(dataDir, { recursive: true });
    } catch (err) {
      throw new ConfigError(`config: data-dir: cannot create ${dataDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const logger = options.logger.child({ name: config.name });
    const joined = await Member.joinedIdentity(options, dataDir, logger);
    const { container, identity } = await Member.assemble(options, dataDir, logger, joined);
    const member = await Member.launch(container);
    logger.info({ member: identity.memberId, cluster: identity.clusterId, dataDir, clientUrls: config['listen-client-urls'] }, 'member ready to serve clients');
    return member;
  }

  /** The container of a member: its values, the core's modules, the plugins' and the overrides. */
  private static async assemble(
    options: MemberOptions,
    dataDir: string,
    logger: Logger,
    joined?: JoinedIdentity,
  ): Promise<{ container: Container; identity: MemberIdentity }> {
    const { config } = options;
    const { container, identity } = await createMemberContainer({
      config,
      application: options.application,
      logger,
      ...(options.environment === undefined ? {} : { environment: options.environment }),
      ...(joined === undefined ? {} : { joined }),
    });
    await loadPluginModules(container, config, options.baseDir, dataDir, options.builtins, options.defaults, identity, options.logger);
    if (options.overrides !== undefined) await container.loadAsync(...options.overrides);
    return { container, identity };
  }

  /**
   * Who a member started with `--initial-cluster-state existing` is. One that joined under an ID
   * the cluster gave it saved it; a fresh data dir learns it from the cluster (join-identity.ts); a
   * data dir of a founder, or of a member that joined when IDs followed from the peer URLs alone,
   * is the ID the flags give (the stable store refuses a mismatch).
   */
  private static async joinedIdentity(options: MemberOptions, dataDir: string, logger: Logger): Promise<JoinedIdentity | undefined> {
    if (options.config['initial-cluster-state'] !== 'existing') return undefined;
    const saved = await readJoinedIdentity(dataDir);
    if (saved !== undefined) return saved;
    if (await holdsMemberState(dataDir)) return undefined;
    const probe = await Member.assemble(options, dataDir, logger);
    const learned = await learnIdentityFromCluster(probe.container, logger, options.stopRequested);
    await saveJoinedIdentity(dataDir, learned);
    return learned;
  }

  /** Start the member a container holds: its lifecycle participants, then its API frontends. */
  static async launch(container: Container): Promise<Member> {
    const logger = container.get<Logger>(LOGGER);
    const services = container.get<CairnServices>(CAIRN_SERVICES);
    const participants: LifecycleParticipant[] = [...container.getAll<LifecycleParticipant>(LIFECYCLE_PARTICIPANT, { optional: true })];
    const frontends = container.getAll<ApiFrontend>(API_FRONTEND, { optional: true });
    frontends.forEach((frontend, i) => participants.push(new ApiFrontendParticipant(`api:${i}`, frontend, services)));
    const lifecycle = new LifecycleRunner(logger);
    await lifecycle.start(participants);
    return new Member(container, container.get(RaftNode), services, lifecycle, logger);
  }

  /** Stop serving, stop Raft, close the application and storage. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.lifecycle.stop();
    this.logger.info({}, 'member stopped');
  }
}
