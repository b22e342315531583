import { injectable } from 'inversify';
import { Gauge, type Registry } from 'prom-client';
import { CounterFamily, type CounterSeries, type MetricsCollector } from '@cairn/core';

export type CheckEndpoint = 'livez' | 'readyz';

/**
 * What etcd's health endpoints count (etcdhttp): /health answers true and false, and each named
 * check /livez and /readyz ran, with its last result. Shared by the client port and the metrics
 * listener, like etcd's process-wide counters.
 */
@injectable()
export class HealthEndpointMetrics implements MetricsCollector {
  private readonly healthSuccess = new CounterFamily({ name: 'etcd_server_health_success', help: 'The total number of successful health checks' });
  private readonly healthFailures = new CounterFamily({ name: 'etcd_server_health_failures', help: 'The total number of failed health checks' });
  private readonly checks = new CounterFamily<'type' | 'name' | 'status'>({
    name: 'etcd_server_healthchecks_total',
    help: 'The total number of each kind of healthcheck.',
    labelNames: ['type', 'name', 'status'],
  });
  private readonly lastResult = new Gauge({
    name: 'etcd_server_healthcheck',
    help: 'The result of each kind of healthcheck.',
    labelNames: ['type', 'name'],
    registers: [],
  });
  private readonly success: CounterSeries = this.healthSuccess.of({});
  private readonly failure: CounterSeries = this.healthFailures.of({});

  register(registry: Registry): void {
    this.healthSuccess.register(registry);
    this.healthFailures.register(registry);
    registry.registerMetric(this.lastResult);
    this.checks.register(registry);
  }

  /** One /health answer. */
  health(healthy: boolean): void {
    (healthy ? this.success : this.failure).inc();
  }

  /** One named check run by /livez or /readyz (or a sub-path of them). */
  check(type: CheckEndpoint, name: string, healthy: boolean): void {
    // Labels in name order, as Go prints them.
    this.lastResult.set({ name, type }, healthy ? 1 : 0);
    this.checks.of({ type, name, status: healthy ? 'success' : 'error' }).inc();
  }
}
