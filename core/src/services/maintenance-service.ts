import { inject, injectable, optional } from 'inversify';
import { authBucketsOf } from '../auth/auth-snapshot.js';
import { AuthStore } from '../auth/auth-store.js';
import { AlarmRegistry } from '../alarm/alarm-registry.js';
import { encodeKvCommand } from '../apply/kv-command.js';
import { etcdSnapshotFile } from '../etcd-snapshot/etcd-snapshot-file.js';
import { MvccStore, type ApplyOutcome } from '../mvcc/mvcc-store.js';
import { BACKEND, type Backend } from '../ports/backend.js';
import { CONSENSUS, type Consensus } from '../raft/consensus.js';
import { RESPONSE_HEADERS, type ResponseHeaders } from '../api/response-headers.js';
import { NO_MEMBER } from '../protocol/raft-types.js';
import { EtcdErrors } from '../api/errors.js';
import { LeaderWait } from './leader-wait.js';
import type { ResponseHeader } from '../api/kv-types.js';
import { AlarmAction, AlarmType, type AlarmMember, type HashKvResponse, type MaintenanceService, type StatusResponse } from '../api/services.js';

/** The etcd API level Cairn speaks; clients gate features on this version. */
export const ETCD_API_VERSION = '3.4.0';

const ALARM_NAMES: Record<AlarmType, string> = { [AlarmType.None]: 'NONE', [AlarmType.NoSpace]: 'NOSPACE', [AlarmType.Corrupt]: 'CORRUPT' };

/** etcd's Maintenance service on a member. */
@injectable()
export class MemberMaintenanceService implements MaintenanceService {
  constructor(
    @inject(CONSENSUS) private readonly node: Consensus,
    @inject(MvccStore) private readonly store: MvccStore,
    @inject(BACKEND) private readonly backend: Backend,
    @inject(AlarmRegistry) private readonly alarms: AlarmRegistry,
    @inject(RESPONSE_HEADERS) private readonly headers: ResponseHeaders,
    @inject(LeaderWait) private readonly leader: LeaderWait,
    @inject(AuthStore) @optional() private readonly auth?: AuthStore,
  ) {}

  async status(): Promise<StatusResponse> {
    const raft = this.node.status();
    const size = await this.backend.size();
    return {
      header: this.headers.header(this.store.currentRevision),
      version: ETCD_API_VERSION,
      dbSize: size.total,
      dbSizeInUse: size.inUse,
      leader: raft.leader === NO_MEMBER ? '' : raft.leader,
      raftIndex: raft.commit,
      raftTerm: raft.term,
      raftAppliedIndex: this.node.appliedIndex(),
      errors: this.alarms.list().map((a) => `memberID:${BigInt(`0x${a.memberId}`)} alarm:${ALARM_NAMES[a.alarm]} `),
      isLearner: raft.confState.learners.includes(raft.id),
    };
  }

  async hashKv(revision: number): Promise<HashKvResponse> {
    const { hash, revision: current, compactRevision } = await this.store.hashKv(revision);
    return { header: this.headers.header(current), hash, compactRevision };
  }

  async defragment(): Promise<{ readonly header: ResponseHeader }> {
    await this.backend.defragment();
    return { header: this.headers.header(this.store.currentRevision) };
  }

  async alarm(action: AlarmAction, memberId: string, alarm: AlarmType): Promise<{ readonly header: ResponseHeader; readonly alarms: readonly AlarmMember[] }> {
    await this.leader.known();
    if (action === AlarmAction.Get) {
      await this.node.readIndex();
      return { header: this.headers.header(this.store.currentRevision), alarms: this.alarms.list(alarm) };
    }
    const outcome = (await this.node.propose(encodeKvCommand({ op: 'alarm', action, memberId, alarm }))) as ApplyOutcome<AlarmMember[]>;
    if ('error' in outcome) throw outcome.error;
    return { header: this.headers.header(this.store.currentRevision), alarms: outcome.ok };
  }

  /** The store as an etcd backend file (bbolt), so `etcdctl snapshot status/restore` read it. */
  snapshot(): AsyncIterable<Uint8Array> {
    // Pinned now, so the records and the consistent index in the file describe the same moment.
    const pinned = this.store.pinnedRecords();
    // Taken in the same turn as the pinned records: users and roles of the same moment.
    const auth = this.auth === undefined ? undefined : authBucketsOf(this.auth.contents());
    const file = etcdSnapshotFile({
      ...(auth === undefined ? {} : { auth }),
      records: async function* () {
        for await (const { at, record } of pinned.records()) yield { main: at.main, sub: at.sub, ...record };
      },
      consistentIndex: pinned.appliedIndex,
      compactRevision: pinned.compactRevision,
    });
    return (async function* () {
      try {
        yield* file;
      } finally {
        pinned.release();
      }
    })();
  }

  async moveLeader(targetId: string): Promise<{ readonly header: ResponseHeader }> {
    const raft = this.node.status();
    if (raft.leader !== raft.id) throw EtcdErrors.notLeader();
    if (!raft.confState.voters.includes(targetId)) throw EtcdErrors.badLeaderTransferee();
    if (targetId !== raft.id) await this.node.transferLeadership(targetId);
    return { header: this.headers.header(this.store.currentRevision) };
  }
}
