import { inject, injectable } from 'inversify';
import { Gauge, type Registry } from 'prom-client';
import { MvccStore } from '../mvcc/mvcc-store.js';
import { WatchHub } from '../mvcc/watch-hub.js';
import { BACKEND, type Backend } from '../ports/backend.js';
import type { MetricsCollector } from '../ports/metrics-collector.js';

/** etcd's MVCC metrics (sizes, keys, watchers, revisions), under etcd's names and help, read at scrape time. */
@injectable()
export class MvccMetrics implements MetricsCollector {
  constructor(
    @inject(MvccStore) private readonly store: Pick<MvccStore, 'currentRevision' | 'compactRevision' | 'liveKeyCount'>,
    @inject(WatchHub) private readonly watches: Pick<WatchHub, 'watcherCount'>,
    @inject(BACKEND) private readonly backend: Pick<Backend, 'size'>,
  ) {}

  register(registry: Registry): void {
    const { store, watches, backend } = this;
    const registers = [registry];
    const gauge = (name: string, help: string, read: () => number | Promise<number>): void => {
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          this.set(await read());
        },
      });
    };
    gauge('etcd_mvcc_db_total_size_in_bytes', 'Total size of the underlying database physically allocated in bytes.', async () => (await backend.size()).total);
    gauge(
      'etcd_mvcc_db_total_size_in_use_in_bytes',
      'Total size of the underlying database logically in use in bytes.',
      async () => (await backend.size()).inUse,
    );
    gauge('etcd_debugging_mvcc_keys_total', 'Total number of keys.', () => store.liveKeyCount);
    gauge('etcd_debugging_mvcc_watcher_total', 'Total number of watchers.', () => {
      const { synced, unsynced } = watches.watcherCount;
      return synced + unsynced;
    });
    gauge('etcd_debugging_mvcc_slow_watcher_total', 'Total number of unsynced slow watchers.', () => watches.watcherCount.unsynced);
    gauge('etcd_debugging_mvcc_current_revision', 'The current revision of store.', () => store.currentRevision);
    gauge('etcd_debugging_mvcc_compact_revision', 'The revision of the last compaction in store.', () => store.compactRevision);
  }
}
