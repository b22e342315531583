import { inject, injectable } from 'inversify';
import type { Registry } from 'prom-client';
import type { MetricsService } from '../api/services.js';
import { METRICS_REGISTRY } from '../ports/metrics-collector.js';

/** The member's registry in Prometheus' text exposition format. */
@injectable()
export class MemberMetrics implements MetricsService {
  constructor(@inject(METRICS_REGISTRY) private readonly registry: Registry) {}

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
