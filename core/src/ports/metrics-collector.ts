import type { Registry } from 'prom-client';

/**
 * A contribution point: every MetricsCollector bound to METRICS_COLLECTOR (multi-injected) is
 * asked once, while the member is assembled, to register its metrics on the member's registry.
 * Metrics that are read at scrape time use prom-client's `collect()` callbacks.
 */
export interface MetricsCollector {
  register(registry: Registry): void;
}

export const METRICS_COLLECTOR = Symbol.for('cairn.contribution.MetricsCollector');

/** The member's prom-client Registry (one per member, so in-process clusters do not mix). */
export const METRICS_REGISTRY = Symbol.for('cairn.value.MetricsRegistry');
