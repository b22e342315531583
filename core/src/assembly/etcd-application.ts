import { AlarmRegistry } from '../alarm/alarm-registry.js';
import { BackendQuota } from '../alarm/backend-quota.js';
import { MemberAttributesPublisher } from '../services/member-attributes-publisher.js';
import { MemberRegistry } from '../cluster/member-registry.js';
import { LeaseApplier } from '../lease/lease-applier.js';
import { LeaseIdGenerator } from '../lease/lease-id-generator.js';
import { LeaseStore } from '../lease/lease-store.js';
import { minLeaseTtl } from '../api/lease-types.js';
import { Lessor } from '../lease/lessor.js';
import { encodeKvCommand } from '../apply/kv-command.js';
import { KvStateMachine } from '../apply/kv-state-machine.js';
import { MvccStore } from '../mvcc/mvcc-store.js';
import { WatchHub } from '../mvcc/watch-hub.js';
import type { WatchLimits } from '../api/watch-types.js';
import type { RaftNode } from '../raft/node.js';
import { NO_MEMBER } from '../protocol/raft-types.js';
import { MemberClusterService } from '../services/cluster-service.js';
import { CommitFeed } from '../services/commit-feed.js';
import { MemberElectionService } from '../services/election-service.js';
import { MemberLockService } from '../services/lock-service.js';
import { PrefixWaits } from '../services/prefix-waits.js';
import { RaftKvService } from '../services/kv-service.js';
import { RaftLeaseService } from '../services/lease-service.js';
import { learnerGated } from '../services/learner-gate.js';
import { LeaderWait } from '../services/leader-wait.js';
import type { ResponseHeader } from '../api/kv-types.js';
import { MemberMaintenanceService } from '../services/maintenance-service.js';
import { MemberWatchService } from '../services/watch-service.js';
import { AlarmAction, AlarmType } from '../api/services.js';
import type { ApplicationContext, ApplicationInstance, MemberApplication } from './member-application.js';

/** Tests shorten etcd's 10-minute progress_notify interval with CAIRN_WATCH_PROGRESS_NOTIFY_INTERVAL_MS. */
function watchLimitsFromEnv(): Partial<WatchLimits> {
  const interval = Number(process.env['CAIRN_WATCH_PROGRESS_NOTIFY_INTERVAL_MS']);
  return Number.isInteger(interval) && interval > 0 ? { progressIntervalMs: interval } : {};
}

/** The etcd application: the MVCC store as Raft's state machine, served as KV, Cluster and Maintenance. */
export const etcdApplication: MemberApplication = {
  async create(context: ApplicationContext): Promise<ApplicationInstance> {
    let node: RaftNode | undefined;
    let watchService: MemberWatchService | undefined;
    let publisher: MemberAttributesPublisher | undefined;
    let lessor: Lessor | undefined;
    const memberId = BigInt(`0x${context.identity.memberId}`);
    // A joining member learns its cluster ID from the cluster: read it at each answer.
    const clusterId = (): bigint => BigInt(`0x${node?.cluster() || context.identity.clusterId || '0'}`);
    const header = (revision: number): ResponseHeader => ({ clusterId: clusterId(), memberId, revision, raftTerm: node?.status().term ?? 0 });
    const leaseStore = new LeaseStore(context.backend);
    const store = await MvccStore.open(context.backend, { header, leases: leaseStore });
    const leases = new LeaseApplier(store, leaseStore, header);
    await leases.load();
    const alarms = new AlarmRegistry(context.backend);
    await alarms.load();
    const members = new MemberRegistry(context.backend);
    await members.load();
    // Subscribed before the first apply, so no committed write escapes the watchers.
    const watches = new WatchHub(store, context.clock, watchLimitsFromEnv());
    const commits = new CommitFeed(store);
    return {
      stateMachine: new KvStateMachine(store, alarms, members, leases),
      services(raftNode) {
        node = raftNode;
        const timeout = context.config['election-timeout'];
        // Requests made during an election wait this long for a leader, as etcd's do.
        const leader = new LeaderWait(raftNode, context.clock, 3 * timeout);
        const maintenance = new MemberMaintenanceService(raftNode, store, context.backend, alarms, header, leader);
        const quota = new BackendQuota(context.backend, context.clock, context.config['quota-backend-bytes'], async () => {
          if (!alarms.isRaised(AlarmType.NoSpace)) await maintenance.alarm(AlarmAction.Activate, context.identity.memberId, AlarmType.NoSpace);
        });
        publisher = new MemberAttributesPublisher(raftNode, members, {
          name: context.identity.name, clientURLs: context.config['advertise-client-urls'].split(','),
        }, context.clock, context.logger, timeout);
        publisher.start();
        lessor = new Lessor(raftNode, leaseStore, leases, (command) => raftNode.propose(encodeKvCommand(command)), context.clock, context.logger, {
          electionTimeoutMs: timeout,
        });
        lessor.start();
        const lease = new RaftLeaseService(raftNode, leaseStore, lessor, new LeaseIdGenerator(memberId, Date.now()), leader, {
          minTtl: minLeaseTtl(timeout, context.config['heartbeat-interval']),
          header: () => header(store.currentRevision),
        });
        const kv = new RaftKvService(raftNode, store, { maxTxnOps: context.config['max-txn-ops'], maxRequestBytes: context.config['max-request-bytes'] }, leader, quota);
        const waits = new PrefixWaits(kv, store, commits, context.clock);
        const gated = learnerGated({
          identity: context.identity,
          kv,
          lock: new MemberLockService(kv, lease, waits),
          election: new MemberElectionService(kv, lease, waits, commits),
          cluster: new MemberClusterService(raftNode, members, context.members, context.config['initial-cluster-token'], () => header(store.currentRevision), leader),
          maintenance,
        }, raftNode);
        // The lease service refuses learners itself.
        const isLearner = (): boolean => raftNode.membership().learners.includes(raftNode.id);
        watchService = new MemberWatchService(watches, store, header, {
          isLearner, hasLeader: () => raftNode.currentLeader() !== NO_MEMBER, electionTimeoutMs: timeout,
        }, context.clock);
        return { ...gated, lease, watch: watchService };
      },
      async close() {
        publisher?.stop();
        watchService?.close();
        watches.close();
        lessor?.stop();
        await store.flush();
      },
    };
  },
};
