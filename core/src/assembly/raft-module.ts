import { ContainerModule } from 'inversify';
import { CONSENSUS_PROVIDER, type ConsensusProvider } from '../apply/member-response-headers.js';
import { DISK_LATENCY } from '../ports/disk-latency.js';
import { LIFECYCLE_PARTICIPANT } from '../ports/lifecycle-participant.js';
import { METRICS_COLLECTOR } from '../ports/metrics-collector.js';
import { CONSENSUS, type Consensus } from '../raft/consensus.js';
import { RaftNode } from '../raft/node.js';
import { DiskMetrics } from '../services/disk-metrics.js';
import { RaftMetrics } from '../services/raft-metrics.js';
import { bindParticipant, StorageParticipant } from './lifecycle-participants.js';

/** The consensus node over the storage and transport ports, and the participants that open and run them. */
export const raftModule = new ContainerModule(({ bind }) => {
  bind(RaftNode).toSelf().inSingletonScope();
  bind(CONSENSUS).toService(RaftNode);
  bind<ConsensusProvider>(CONSENSUS_PROVIDER).toFactory((context) => () => context.get<Consensus>(CONSENSUS));
  bind(LIFECYCLE_PARTICIPANT).to(StorageParticipant).inSingletonScope();
  // etcd's Raft and disk metrics; the node and the MVCC store time their storage calls into DiskMetrics.
  bind(DiskMetrics).toSelf().inSingletonScope();
  bind(DISK_LATENCY).toService(DiskMetrics);
  bind(METRICS_COLLECTOR).toService(DiskMetrics);
  bind(METRICS_COLLECTOR).to(RaftMetrics).inSingletonScope();
  // Recovery from the stores, then ticking, replicating and applying.
  bindParticipant(bind, RaftNode, {
    name: 'raft',
    after: ['state', 'lessor', 'member-attributes', 'watch-service'],
    start: (node) => node.start(),
    stop: (node) => node.stop(),
  });
});
