import { AlarmRegistry } from '../alarm/alarm-registry.js';
import { BackendQuota } from '../alarm/backend-quota.js';
import { KvStateMachine } from '../mvcc/kv-state-machine.js';
import { MvccStore } from '../mvcc/mvcc-store.js';
import type { RaftNode } from '../raft/node.js';
import { MemberClusterService } from '../services/cluster-service.js';
import { RaftKvService } from '../services/kv-service.js';
import { LeaderWait } from '../services/leader-wait.js';
import type { ResponseHeader } from '../services/kv-types.js';
import { MemberMaintenanceService } from '../services/maintenance-service.js';
import { AlarmAction, AlarmType } from '../services/registry.js';
import type { ApplicationContext, ApplicationInstance, MemberApplication } from './member-application.js';

/** The etcd application: the MVCC store as Raft's state machine, served as KV, Cluster and Maintenance. */
export const etcdApplication: MemberApplication = {
  async create(context: ApplicationContext): Promise<ApplicationInstance> {
    let node: RaftNode | undefined;
    const clusterId = BigInt(`0x${context.identity.clusterId}`);
    const memberId = BigInt(`0x${context.identity.memberId}`);
    const header = (revision: number): ResponseHeader => ({ clusterId, memberId, revision, raftTerm: node?.status().term ?? 0 });
    const store = await MvccStore.open(context.backend, { header });
    const alarms = new AlarmRegistry(context.backend);
    await alarms.load();
    return {
      stateMachine: new KvStateMachine(store, alarms),
      services(raftNode) {
        node = raftNode;
        // Requests made during an election wait this long for a leader, as etcd's do.
        const leader = new LeaderWait(raftNode, context.clock, 3 * context.config['election-timeout']);
        const maintenance = new MemberMaintenanceService(raftNode, store, context.backend, alarms, header, leader);
        const quota = new BackendQuota(context.backend, context.clock, context.config['quota-backend-bytes'], async () => {
          if (!alarms.isRaised(AlarmType.NoSpace)) await maintenance.alarm(AlarmAction.Activate, context.identity.memberId, AlarmType.NoSpace);
        });
        return {
          identity: context.identity,
          kv: new RaftKvService(raftNode, store, { maxTxnOps: context.config['max-txn-ops'], maxRequestBytes: context.config['max-request-bytes'] }, leader, quota),
          cluster: new MemberClusterService(raftNode, context.members, context.config['initial-cluster-token'], () => header(store.currentRevision), leader),
          maintenance,
        };
      },
      async close() {
        await store.flush();
      },
    };
  },
};
