import { inject, injectable, multiInject, optional } from 'inversify';
import type { HealthCheckResult, HealthCheckSelection, HealthService, HealthVerdict, HealthVerdictOptions } from '../api/services.js';
import { HEALTH_CHECK, type HealthCheck } from '../ports/health-check.js';
import { MemberHealthVerdict } from './health-verdict.js';

/** A check that has not answered by then counts as unhealthy (a frontend must answer promptly). */
const CHECK_TIMEOUT_MS = 5_000;

type Kind = 'liveness' | 'readiness';

/**
 * Runs the contributed health checks (HEALTH_CHECK, multi-injected, in binding order: the
 * kernel's first): healthy when every check asked is. Only the checks asked for run, so an
 * excluded linearizable read costs no ReadIndex round.
 */
@injectable()
export class MemberHealth implements HealthService {
  constructor(
    @multiInject(HEALTH_CHECK) @optional() private readonly checks: readonly HealthCheck[] = [],
    @inject(MemberHealthVerdict) @optional() private readonly etcdVerdict?: Pick<MemberHealthVerdict, 'verdict'>,
  ) {}

  names(kind: Kind): readonly string[] {
    return this.ofKind(kind).map((c) => c.name);
  }

  async check(kind: Kind, selection: HealthCheckSelection = {}): Promise<{ healthy: boolean; checks: HealthCheckResult[] }> {
    const { only, exclude } = selection;
    const asked = this.ofKind(kind).filter((c) => (only === undefined || only.includes(c.name)) && !(exclude ?? []).includes(c.name));
    const checks = await Promise.all(asked.map((c) => this.run(c)));
    return { healthy: checks.every((c) => c.healthy), checks };
  }

  /** etcd's /health; without the kernel's verdict (a bare member), the readiness checks' first failure. */
  async verdict(options?: HealthVerdictOptions): Promise<HealthVerdict> {
    if (this.etcdVerdict !== undefined) return this.etcdVerdict.verdict(options);
    const failure = (await this.check('readiness')).checks.find((c) => !c.healthy);
    return failure === undefined ? { healthy: true, reason: '' } : { healthy: false, reason: failure.reason ?? failure.name };
  }

  private ofKind(kind: Kind): readonly HealthCheck[] {
    return kind === 'readiness' ? this.checks : this.checks.filter((c) => c.kind === 'liveness');
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
