import { injectable } from 'inversify';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { MetricsCollector } from '../ports/metrics-collector.js';

/**
 * prom-client's default metrics (process_*, nodejs_*), collected once per process: they describe
 * the process, and each collection installs event-loop and GC observers that are never removed.
 * Every member of the process shows the same metric objects on its own registry.
 */
let processRegistry: Registry | undefined;

function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

@injectable()
export class ProcessMetrics implements MetricsCollector {
  register(registry: Registry): void {
    const shared = processMetrics();
    for (const { name } of shared.getMetricsAsArray()) {
      const metric = shared.getSingleMetric(name);
      if (metric !== undefined) registry.registerMetric(metric);
    }
  }
}
