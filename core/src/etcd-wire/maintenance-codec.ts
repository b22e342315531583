import type { AlarmMember, HashKvResponse, StatusResponse } from '../api/services.js';
import type { ResponseHeader } from '../api/kv-types.js';
import { headerToWire } from './kv-codec.js';
import { memberIdToWire } from './member-id.js';
import type { WireAlarmResponse, WireHashKvResponse, WireStatusResponse } from './wire-types.js';

export function statusResponseToWire(status: StatusResponse): WireStatusResponse {
  return {
    header: headerToWire(status.header),
    version: status.version,
    dbSize: status.dbSize,
    leader: memberIdToWire(status.leader),
    raftIndex: status.raftIndex,
    raftTerm: status.raftTerm,
    raftAppliedIndex: status.raftAppliedIndex,
    errors: [...status.errors],
    dbSizeInUse: status.dbSizeInUse,
    isLearner: status.isLearner,
  };
}

/** HashKV's answer; `hash_revision` is the revision asked for, or the current one when 0 was. */
export function hashKvResponseToWire(hashed: HashKvResponse, requestedRevision: number): WireHashKvResponse {
  return {
    header: headerToWire(hashed.header),
    hash: hashed.hash,
    compact_revision: hashed.compactRevision,
    hash_revision: requestedRevision > 0 ? requestedRevision : hashed.header.revision,
  };
}

export function alarmResponseToWire(response: { readonly header: ResponseHeader; readonly alarms: readonly AlarmMember[] }): WireAlarmResponse {
  return {
    header: headerToWire(response.header),
    alarms: response.alarms.map((a) => ({ memberID: memberIdToWire(a.memberId), alarm: a.alarm })),
  };
}
