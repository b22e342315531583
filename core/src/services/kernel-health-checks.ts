import { inject, injectable } from 'inversify';
import { AlarmRegistry } from '../alarm/alarm-registry.js';
import { AlarmType } from '../api/services.js';
import type { HealthCheck, HealthStatus } from '../ports/health-check.js';
import { CONSENSUS, type Consensus } from '../raft/consensus.js';
import { RaftKvService } from './kv-service.js';

/** What etcd's read checks ask: one key, keys only (any key will do; the point is the read path). */
export const HEALTH_READ = { key: Uint8Array.of(0), limit: 1, keysOnly: true } as const;

const failed = (err: unknown): HealthStatus => ({ healthy: false, reason: err instanceof Error ? err.message : String(err) });

/** etcd's readyz `data_corruption`: unready while the CORRUPT alarm is raised. */
@injectable()
export class DataCorruptionCheck implements HealthCheck {
  readonly name = 'data_corruption';
  readonly kind = 'readiness';

  constructor(@inject(AlarmRegistry) private readonly alarms: Pick<AlarmRegistry, 'list'>) {}

  async check(): Promise<HealthStatus> {
    return this.alarms.list(AlarmType.Corrupt).length > 0 ? { healthy: false, reason: 'alarm activated: CORRUPT' } : { healthy: true };
  }
}

/** etcd's `serializable_read` (livez and readyz): this member can read its own state. */
@injectable()
export class SerializableReadCheck implements HealthCheck {
  readonly name = 'serializable_read';
  readonly kind = 'liveness';

  constructor(@inject(RaftKvService) private readonly kv: Pick<RaftKvService, 'range'>) {}

  check(): Promise<HealthStatus> {
    return this.kv.range({ ...HEALTH_READ, serializable: true }).then(() => ({ healthy: true }), failed);
  }
}

/** etcd's readyz `linearizable_read`: the cluster has a quorum this member reaches (a ReadIndex round). */
@injectable()
export class LinearizableReadCheck implements HealthCheck {
  readonly name = 'linearizable_read';
  readonly kind = 'readiness';

  constructor(@inject(RaftKvService) private readonly kv: Pick<RaftKvService, 'range'>) {}

  check(): Promise<HealthStatus> {
    return this.kv.range(HEALTH_READ).then(() => ({ healthy: true }), failed);
  }
}

/** etcd's readyz `non_learner` (3.5.19+): a learner serves no client traffic, so it is not ready for it. */
@injectable()
export class NonLearnerCheck implements HealthCheck {
  readonly name = 'non_learner';
  readonly kind = 'readiness';

  constructor(@inject(CONSENSUS) private readonly node: Pick<Consensus, 'id' | 'membership'>) {}

  async check(): Promise<HealthStatus> {
    return this.node.membership().learners.includes(this.node.id) ? { healthy: false, reason: 'not supported for learner' } : { healthy: true };
  }
}
