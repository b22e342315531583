import { inject, injectable } from 'inversify';
import { AlarmRegistry } from '../alarm/alarm-registry.js';
import { AlarmType } from '../api/services.js';
import type { HealthCheck, HealthStatus } from '../ports/health-check.js';
import { NO_MEMBER } from '../protocol/raft-types.js';
import { CONSENSUS, type Consensus } from '../raft/consensus.js';

/** etcd's /health is false without a leader ("RAFT NO LEADER"). */
@injectable()
export class LeaderHealthCheck implements HealthCheck {
  readonly name = 'leader';
  readonly kind = 'readiness';

  constructor(@inject(CONSENSUS) private readonly node: Pick<Consensus, 'currentLeader'>) {}

  async check(): Promise<HealthStatus> {
    return this.node.currentLeader() === NO_MEMBER ? { healthy: false, reason: 'RAFT NO LEADER' } : { healthy: true };
  }
}

/** etcd's /health is false while an alarm is raised ("ALARM NOSPACE"). */
@injectable()
export class AlarmHealthCheck implements HealthCheck {
  readonly name = 'alarms';
  readonly kind = 'readiness';

  constructor(@inject(AlarmRegistry) private readonly alarms: AlarmRegistry) {}

  async check(): Promise<HealthStatus> {
    const raised = this.alarms.list(AlarmType.None);
    if (raised.length === 0) return { healthy: true };
    return { healthy: false, reason: raised.map((a) => `ALARM ${AlarmType[a.alarm]?.toUpperCase() ?? a.alarm}`).join(', ') };
  }
}
