import { inject, injectable } from 'inversify';
import { AlarmRegistry } from '../alarm/alarm-registry.js';
import type { NoSpaceAlarm } from '../alarm/no-space-alarm.js';
import { AlarmAction, AlarmType } from '../api/services.js';
import { MEMBER_IDENTITY, type MemberIdentity } from '../ports/member-identity.js';
import { MemberMaintenanceService } from './maintenance-service.js';

/** The quota's NOSPACE alarm, raised once through the Maintenance service (a log entry, as etcd does). */
@injectable()
export class NoSpaceAlarmRaiser implements NoSpaceAlarm {
  constructor(
    @inject(AlarmRegistry) private readonly alarms: AlarmRegistry,
    @inject(MemberMaintenanceService) private readonly maintenance: MemberMaintenanceService,
    @inject(MEMBER_IDENTITY) private readonly identity: MemberIdentity,
  ) {}

  async raise(): Promise<void> {
    if (!this.alarms.isRaised(AlarmType.NoSpace)) await this.maintenance.alarm(AlarmAction.Activate, this.identity.memberId, AlarmType.NoSpace);
  }
}
