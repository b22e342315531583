import { injectable } from 'inversify';
import type { Registry } from 'prom-client';
import type { DiskLatency } from '../ports/disk-latency.js';
import { exponentialBuckets, HistogramFamily, type HistogramSeries } from '../ports/metric-families.js';
import type { MetricsCollector } from '../ports/metrics-collector.js';

/** etcd's buckets for both: 1 ms to 8.192 s, doubling. */
const DISK_BUCKETS = exponentialBuckets(0.001, 2, 14);

/**
 * etcd's two disk histograms, fed by the kernel around its storage port calls (DISK_LATENCY): the
 * Raft log's appends (one sync each) and the Backend's batches. Observing is a few additions.
 */
@injectable()
export class DiskMetrics implements DiskLatency, MetricsCollector {
  private readonly walFsync = new HistogramFamily({
    name: 'etcd_disk_wal_fsync_duration_seconds',
    help: 'The latency distributions of fsync called by WAL.',
    buckets: DISK_BUCKETS,
  });
  private readonly backendCommit = new HistogramFamily({
    name: 'etcd_disk_backend_commit_duration_seconds',
    help: 'The latency distributions of commit called by backend.',
    buckets: DISK_BUCKETS,
  });
  private readonly wal: HistogramSeries = this.walFsync.of({});
  private readonly commit: HistogramSeries = this.backendCommit.of({});

  logSynced(seconds: number): void {
    this.wal.observe(seconds);
  }

  backendCommitted(seconds: number): void {
    this.commit.observe(seconds);
  }

  register(registry: Registry): void {
    this.walFsync.register(registry);
    this.backendCommit.register(registry);
  }
}
