import { inject, injectable } from 'inversify';
import { BACKEND, type Backend, type BackendOp } from '../ports/backend.js';
import { metaKey, META_PREFIX } from '../mvcc/revision-key.js';
import { AlarmAction, AlarmType, type AlarmMember } from '../api/services.js';

const PREFIX = 'alarm/';

/**
 * The cluster's raised alarms (NOSPACE, CORRUPT), changed only by applied Raft entries and kept
 * in the Backend beside the MVCC metadata so every member agrees and restarts remember.
 */
@injectable()
export class AlarmRegistry {
  private readonly raised = new Map<string, AlarmMember>();

  constructor(@inject(BACKEND) private readonly backend: Backend) {}

  /** Read the raised alarms from the Backend (at open, and after a snapshot replaced it). */
  async load(): Promise<void> {
    this.raised.clear();
    // '0' follows '/' in ASCII, so this bound covers exactly the "alarm/" keys.
    for await (const [k] of this.backend.range({ gte: metaKey(PREFIX), lt: metaKey('alarm0') })) {
      const [memberId, type] = Buffer.from(k)
        .subarray(1 + PREFIX.length)
        .toString('utf8')
        .split('/');
      if (memberId !== undefined && type !== undefined) this.raised.set(`${memberId}/${type}`, { memberId, alarm: Number(type) as AlarmType });
    }
  }

  list(alarm: AlarmType = AlarmType.None): AlarmMember[] {
    return [...this.raised.values()].filter((a) => alarm === AlarmType.None || a.alarm === alarm);
  }

  isRaised(alarm: AlarmType): boolean {
    return this.list(alarm).length > 0;
  }

  /** The backend writes for an applied alarm change; the registry changes with them. */
  change(action: AlarmAction, memberId: string, alarm: AlarmType): { ops: BackendOp[]; changed: AlarmMember[] } {
    const id = `${memberId}/${alarm}`;
    const key = metaKey(PREFIX + id);
    if (action === AlarmAction.Activate && alarm !== AlarmType.None) {
      const entry = { memberId, alarm };
      this.raised.set(id, entry);
      return { ops: [{ type: 'put', key, value: Uint8Array.of(META_PREFIX) }], changed: [entry] };
    }
    if (action === AlarmAction.Deactivate && this.raised.has(id)) {
      const entry = this.raised.get(id)!;
      this.raised.delete(id);
      return { ops: [{ type: 'del', key }], changed: [entry] };
    }
    return { ops: [], changed: [] };
  }
}
