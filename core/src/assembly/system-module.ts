import { ContainerModule } from 'inversify';
import { Registry } from 'prom-client';
import { CLOCK } from '../ports/clock.js';
import { DEFERRAL } from '../ports/deferral.js';
import { METRICS_COLLECTOR, METRICS_REGISTRY } from '../ports/metrics-collector.js';
import { RANDOM } from '../ports/random.js';
import { SystemClock } from '../ports/system-clock.js';
import { ImmediateDeferral } from '../ports/system-deferral.js';
import { SystemRandom } from '../ports/system-random.js';
import { ProcessMetrics } from '../services/process-metrics.js';

/**
 * Time, randomness, deferral and the metrics registry of a real process. The simulator and
 * in-process test clusters rebind CLOCK, RANDOM and DEFERRAL (see `MemberOptions.overrides`).
 */
export const systemModule = new ContainerModule(({ bind }) => {
  bind(CLOCK).to(SystemClock).inSingletonScope();
  bind(RANDOM).to(SystemRandom).inSingletonScope();
  bind(DEFERRAL).to(ImmediateDeferral).inSingletonScope();
  // One registry per member, so members of one process (tests, embedding) never share metrics.
  bind(METRICS_REGISTRY)
    .toDynamicValue(() => new Registry())
    .inSingletonScope();
  // The process's own metrics (CPU, memory, event loop), shared by every member of the process.
  bind(METRICS_COLLECTOR).to(ProcessMetrics).inSingletonScope();
});
