import { inject, injectable } from 'inversify';
import { Gauge, type Registry } from 'prom-client';
import { BackendQuota } from '../alarm/backend-quota.js';
import type { MetricsCollector } from '../ports/metrics-collector.js';
import { ETCD_API_VERSION } from './maintenance-service.js';

/** etcd's server facts that do not come from Raft: the backend quota and the versions spoken. */
@injectable()
export class ServerMetrics implements MetricsCollector {
  constructor(@inject(BackendQuota) private readonly quota: Pick<BackendQuota, 'quotaBytes'>) {}

  register(registry: Registry): void {
    const registers = [registry];
    // etcd shows the flag as given, its default when 0 (negative: quota off).
    new Gauge({ name: 'etcd_server_quota_backend_bytes', help: 'Current backend storage quota size in bytes.', registers }).set(this.quota.quotaBytes);
    new Gauge({
      name: 'etcd_server_version',
      help: "Which version is running. 1 for 'server_version' label with current version.",
      labelNames: ['server_version'],
      registers,
    }).set({ server_version: ETCD_API_VERSION }, 1);
    new Gauge({
      name: 'etcd_cluster_version',
      help: "Which version is running. 1 for 'cluster_version' label with current cluster version",
      labelNames: ['cluster_version'],
      registers,
    }).set({ cluster_version: ETCD_API_VERSION.split('.').slice(0, 2).join('.') }, 1);
  }
}
