import { inject, injectable } from 'inversify';
import { Counter, type Registry } from 'prom-client';
import { PasswordHasher } from '../auth/password-hasher.js';
import type { MetricsCollector } from '../ports/metrics-collector.js';

/** Failed password checks: a brute-force attempt shows as a climbing counter. */
@injectable()
export class AuthMetrics implements MetricsCollector {
  constructor(@inject(PasswordHasher) private readonly hasher: Pick<PasswordHasher, 'failedCount'>) {}

  register(registry: Registry): void {
    const hasher = this.hasher;
    new Counter({
      name: 'cairn_auth_failed_authentications_total',
      help: 'Authenticate calls refused for an unknown user or a wrong password.',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(hasher.failedCount);
      },
    });
  }
}
