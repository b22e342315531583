/** What one health check found. `reason` says why it is unhealthy, in etcd's words where etcd has some. */
export interface HealthStatus {
  readonly healthy: boolean;
  readonly reason?: string;
}

/**
 * A contribution point: every HealthCheck bound to HEALTH_CHECK (multi-injected) is asked when a
 * client asks whether the member is healthy (etcd's /health; /readyz and /livez in frontends).
 * `readiness` checks decide /readyz and /health; `liveness` checks decide /livez as well.
 * A check answers quickly (a frontend times it out) and never throws for "unhealthy".
 */
export interface HealthCheck {
  /** Short and unique, e.g. "leader", "alarms", "my-plugin-disk". */
  readonly name: string;
  readonly kind: 'liveness' | 'readiness';
  check(): Promise<HealthStatus>;
}

export const HEALTH_CHECK = Symbol.for('cairn.contribution.HealthCheck');
