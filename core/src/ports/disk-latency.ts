/**
 * Where the kernel reports how long the storage ports took, measured around its own calls so
 * every storage plugin gets etcd's disk histograms. Bound by the assembly (DiskMetrics); absent,
 * nothing is measured.
 */
export interface DiskLatency {
  /** A LogStore.append (its entries made durable, one sync) took `seconds`: etcd_disk_wal_fsync_duration_seconds. */
  logSynced(seconds: number): void;
  /** A Backend write batch or flush took `seconds`: etcd_disk_backend_commit_duration_seconds. */
  backendCommitted(seconds: number): void;
}

export const DISK_LATENCY = Symbol.for('cairn.kernel.DiskLatency');
