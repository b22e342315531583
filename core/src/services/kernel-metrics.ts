import { inject, injectable } from 'inversify';
import { Gauge, type Registry } from 'prom-client';
import { MvccStore } from '../mvcc/mvcc-store.js';
import type { MetricsCollector } from '../ports/metrics-collector.js';
import { NO_MEMBER } from '../protocol/raft-types.js';
import { CONSENSUS, type Consensus } from '../raft/consensus.js';

/** A few of etcd's server metrics, under etcd's names, read at scrape time. */
@injectable()
export class KernelMetrics implements MetricsCollector {
  constructor(
    @inject(CONSENSUS) private readonly node: Pick<Consensus, 'id' | 'currentLeader'>,
    @inject(MvccStore) private readonly store: Pick<MvccStore, 'currentRevision'>,
  ) {}

  register(registry: Registry): void {
    const node = this.node;
    const store = this.store;
    new Gauge({
      name: 'etcd_server_has_leader',
      help: 'Whether or not a leader exists. 1 is existence, 0 is not.',
      registers: [registry],
      collect() {
        this.set(node.currentLeader() === NO_MEMBER ? 0 : 1);
      },
    });
    new Gauge({
      name: 'etcd_server_is_leader',
      help: 'Whether or not this member is a leader. 1 if is, 0 otherwise.',
      registers: [registry],
      collect() {
        this.set(node.currentLeader() === node.id ? 1 : 0);
      },
    });
    new Gauge({
      name: 'etcd_debugging_mvcc_current_revision',
      help: 'The current revision of store.',
      registers: [registry],
      collect() {
        this.set(store.currentRevision);
      },
    });
  }
}
