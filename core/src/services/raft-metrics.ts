import { inject, injectable } from 'inversify';
import { Counter, Gauge, type Registry } from 'prom-client';
import { memberIdLabel } from '../ports/metric-families.js';
import type { MetricsCollector } from '../ports/metrics-collector.js';
import { NO_MEMBER } from '../protocol/raft-types.js';
import { RaftNode } from '../raft/node.js';

type RaftView = Pick<RaftNode, 'id' | 'currentLeader' | 'appliedIndex' | 'status' | 'membership' | 'proposalCounts' | 'onLeaderChange'>;

/**
 * etcd's server metrics that Raft knows, under etcd's names, types and help: leadership,
 * proposals (committed and applied are gauges of the indexes in etcd, despite `_total`), learner
 * and member ID. All read at scrape time, except leader changes, counted as they are seen.
 */
@injectable()
export class RaftMetrics implements MetricsCollector {
  private leaderChanges = 0;

  constructor(@inject(RaftNode) private readonly node: RaftView) {
    // As etcd: a change to a known leader counts (losing the leader does not).
    node.onLeaderChange((leader) => {
      if (leader !== NO_MEMBER) this.leaderChanges++;
    });
  }

  register(registry: Registry): void {
    const node = this.node;
    const registers = [registry];
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    };
    const counter = (name: string, help: string, read: () => number): void => {
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    };
    gauge('etcd_server_has_leader', 'Whether or not a leader exists. 1 is existence, 0 is not.', () => (node.currentLeader() === NO_MEMBER ? 0 : 1));
    gauge('etcd_server_is_leader', 'Whether or not this member is a leader. 1 if is, 0 otherwise.', () => (node.currentLeader() === node.id ? 1 : 0));
    counter('etcd_server_leader_changes_seen_total', 'The number of leader changes seen.', () => this.leaderChanges);
    gauge('etcd_server_is_learner', 'Whether or not this member is a learner. 1 if is, 0 otherwise.', () =>
      node.membership().learners.includes(node.id) ? 1 : 0,
    );
    gauge('etcd_server_proposals_committed_total', 'The total number of consensus proposals committed.', () => this.commitIndex());
    gauge('etcd_server_proposals_applied_total', 'The total number of consensus proposals applied.', () => node.appliedIndex());
    gauge('etcd_server_proposals_pending', 'The current number of pending proposals to commit.', () => node.proposalCounts().pending);
    counter('etcd_server_proposals_failed_total', 'The total number of failed proposals seen.', () => node.proposalCounts().failed);
    const id = new Gauge({
      name: 'etcd_server_id',
      help: "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.",
      labelNames: ['server_id'],
      registers,
    });
    id.set({ server_id: memberIdLabel(node.id) }, 1);
  }

  /** The commit index; before Raft has started, what was applied (all that is known committed). */
  private commitIndex(): number {
    try {
      return this.node.status().commit;
    } catch {
      return this.node.appliedIndex();
    }
  }
}
