import { injectable, multiInject, optional } from 'inversify';
import type { HealthCheckResult, HealthService } from '../api/services.js';
import { HEALTH_CHECK, type HealthCheck } from '../ports/health-check.js';

/** A check that has not answered by then counts as unhealthy (a frontend must answer promptly). */
const CHECK_TIMEOUT_MS = 5_000;

/** Runs the contributed health checks (HEALTH_CHECK, multi-injected): healthy when every check asked is. */
@injectable()
export class MemberHealth implements HealthService {
  constructor(@multiInject(HEALTH_CHECK) @optional() private readonly checks: readonly HealthCheck[] = []) {}

  async check(kind: 'liveness' | 'readiness'): Promise<{ healthy: boolean; checks: HealthCheckResult[] }> {
    const asked = this.checks.filter((c) => kind === 'readiness' || c.kind === 'liveness');
    const checks = await Promise.all(asked.map((c) => this.run(c)));
    return { healthy: checks.every((c) => c.healthy), checks };
  }

  private async run(check: HealthCheck): Promise<HealthCheckResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<HealthCheckResult>((resolve) => {
      timer = setTimeout(() => resolve({ name: check.name, healthy: false, reason: `no answer in ${CHECK_TIMEOUT_MS} ms` }), CHECK_TIMEOUT_MS);
      timer.unref();
    });
    try {
      const answered = check.check().then(
        (status): HealthCheckResult => ({ name: check.name, ...status }),
        (err: unknown): HealthCheckResult => ({ name: check.name, healthy: false, reason: err instanceof Error ? err.message : String(err) }),
      );
      return await Promise.race([answered, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
