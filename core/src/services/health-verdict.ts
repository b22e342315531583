import { inject, injectable } from 'inversify';
import { AlarmRegistry } from '../alarm/alarm-registry.js';
import { AlarmType, type HealthVerdict, type HealthVerdictOptions } from '../api/services.js';
import { CLOCK, type Clock } from '../ports/clock.js';
import { MEMBER_SETTINGS, type MemberSettings } from '../ports/member-settings.js';
import { NO_MEMBER } from '../protocol/raft-types.js';
import { CONSENSUS, type Consensus } from '../raft/consensus.js';
import { HEALTH_READ } from './kernel-health-checks.js';
import { RaftKvService } from './kv-service.js';

const ALARM_REASONS: Partial<Record<AlarmType, string>> = { [AlarmType.NoSpace]: 'ALARM NOSPACE', [AlarmType.Corrupt]: 'ALARM CORRUPT' };

/**
 * etcd's /health (3.5): false with etcd's reason when an alarm is raised (but those excluded by
 * name), when no leader is known (unless serializable), or when a read of one key fails within
 * etcd's request timeout (5 s + two election timeouts); checked in that order, first reason wins.
 */
@injectable()
export class MemberHealthVerdict {
  private readonly readTimeoutMs: number;

  constructor(
    @inject(AlarmRegistry) private readonly alarms: Pick<AlarmRegistry, 'list'>,
    @inject(CONSENSUS) private readonly node: Pick<Consensus, 'currentLeader'>,
    @inject(RaftKvService) private readonly kv: Pick<RaftKvService, 'range'>,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(MEMBER_SETTINGS) settings: Pick<MemberSettings, 'electionTimeoutMs'>,
  ) {
    this.readTimeoutMs = 5_000 + 2 * settings.electionTimeoutMs;
  }

  async verdict(options: HealthVerdictOptions = {}): Promise<HealthVerdict> {
    const excluded = new Set(options.excludedAlarms ?? []);
    for (const raised of this.alarms.list(AlarmType.None)) {
      if (excluded.has(AlarmType[raised.alarm]?.toUpperCase() ?? '')) continue;
      return { healthy: false, reason: ALARM_REASONS[raised.alarm] ?? 'ALARM UNKNOWN' };
    }
    const serializable = options.serializable === true;
    if (!serializable && this.node.currentLeader() === NO_MEMBER) return { healthy: false, reason: 'RAFT NO LEADER' };
    try {
      await this.read(serializable);
      return { healthy: true, reason: '' };
    } catch (err) {
      return { healthy: false, reason: `RANGE ERROR:${err instanceof Error ? err.message : String(err)}` };
    }
  }

  private read(serializable: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => reject(new Error('etcdserver: request timed out')), this.readTimeoutMs);
      this.kv.range({ ...HEALTH_READ, serializable }).then(
        () => {
          timer.cancel();
          resolve();
        },
        (err: unknown) => {
          timer.cancel();
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }
}
