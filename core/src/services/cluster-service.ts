import { inject, injectable } from 'inversify';
import { MemberRegistry } from '../cluster/member-registry.js';
import { FOUNDING_MEMBERS, type ClusterMemberInfo } from '../cluster/cluster-member-info.js';
import { MvccStore } from '../mvcc/mvcc-store.js';
import { MEMBER_SETTINGS, type MemberSettings } from '../ports/member-settings.js';
import { RESPONSE_HEADERS, type ResponseHeaders } from '../api/response-headers.js';
import { addedMemberIdOf } from '../cluster/member-id.js';
import { CLOCK, type Clock } from '../ports/clock.js';
import { memberChangeContext } from '../raft/conf-change.js';
import { LeaderRequestError } from '../raft/leader-requests.js';
import { CONSENSUS, type Consensus } from '../raft/consensus.js';
import { ConfChangeType, type ConfState, type MemberId } from '../protocol/raft-types.js';
import type { RaftStatus } from '../raft/core-api.js';
import { EtcdErrors } from '../api/errors.js';
import type { ResponseHeader } from '../api/kv-types.js';
import { LeaderWait } from './leader-wait.js';
import type { ClusterService, Member, MemberChangeResponse, MemberListResponse } from '../api/services.js';

/** etcd promotes a learner only once its log is within this fraction of the leader's. */
const LEARNER_READY_FRACTION = 0.9;
/** The leader request a follower forwards a promotion with: payload = member ID, answer = empty, once applied on the leader. */
const MEMBER_PROMOTE_REQUEST = 'member-promote';
/** Leaders a promotion is tried on before the caller is told the leader changed. */
const PROMOTE_ATTEMPTS = 3;
/** The refusals a leader answers a forwarded promotion with, by message, so the follower throws the same error. */
const PROMOTE_REFUSALS = [EtcdErrors.learnerNotReady, EtcdErrors.memberNotLearner, EtcdErrors.memberNotFound];
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * etcd's Cluster service on a member. Who is a voter or a learner is Raft's applied
 * configuration; peer URLs, names and client URLs are the member records every member applies
 * from the log (the founders' names also come from initial-cluster, before they publish).
 */
@injectable()
export class MemberClusterService implements ClusterService {
  constructor(
    @inject(CONSENSUS) private readonly node: Consensus,
    @inject(MemberRegistry) private readonly registry: MemberRegistry,
    @inject(FOUNDING_MEMBERS) private readonly founders: readonly ClusterMemberInfo[],
    @inject(MEMBER_SETTINGS) private readonly settings: Pick<MemberSettings, 'initialClusterToken' | 'electionTimeoutMs'>,
    @inject(MvccStore) private readonly store: Pick<MvccStore, 'currentRevision'>,
    @inject(RESPONSE_HEADERS) private readonly headers: ResponseHeaders,
    @inject(LeaderWait) private readonly leader: LeaderWait,
    @inject(CLOCK) private readonly clock: Pick<Clock, 'epochMs'>,
  ) {
    node.serveLeaderRequests(MEMBER_PROMOTE_REQUEST, async (payload) => {
      await this.promoteAsLeader(decoder.decode(payload));
      return new Uint8Array(0);
    });
  }

  private header(): ResponseHeader {
    return this.headers.header(this.store.currentRevision);
  }

  async memberList(linearizable: boolean): Promise<MemberListResponse> {
    if (linearizable) {
      await this.leader.known();
      await this.node.readIndex();
    }
    return { header: this.header(), members: this.members() };
  }

  async memberAdd(peerURLs: readonly string[], isLearner: boolean): Promise<MemberChangeResponse> {
    if (peerURLs.length === 0 || !peerURLs.every(isUrl)) throw EtcdErrors.memberBadUrls();
    const taken = new Set([...this.node.peerUrls().values()].flat());
    if (peerURLs.some((u) => taken.has(u))) throw EtcdErrors.peerUrlExist();
    // etcd's rule: the peer URLs, the cluster token and the time, so a member added again at the
    // URLs of a removed one gets a fresh ID (a removed ID never comes back). The new member learns
    // it from the cluster when it starts.
    const id = this.newMemberId(peerURLs);
    await this.leader.known();
    await this.node.proposeConfChange({
      type: isLearner ? ConfChangeType.AddLearner : ConfChangeType.AddVoter,
      memberId: id,
      context: memberChangeContext(peerURLs),
    });
    const members = this.members();
    return { header: this.header(), member: members.find((m) => m.id === id)!, members };
  }

  /** A new ID for `member add`; on the (unlikely) hit of a taken or removed ID, a later second. */
  private newMemberId(peerURLs: readonly string[]): MemberId {
    for (let ms = this.clock.epochMs(); ; ms += 1000) {
      const id = addedMemberIdOf(peerURLs, this.settings.initialClusterToken, ms);
      if (!this.registry.wasRemoved(id) && !this.isMember(id)) return id;
    }
  }

  async memberRemove(id: string): Promise<MemberChangeResponse> {
    this.requireMember(id);
    await this.leader.known();
    await this.node.proposeConfChange({ type: ConfChangeType.RemoveMember, memberId: id, context: new Uint8Array(0) });
    return { header: this.header(), members: this.members() };
  }

  async memberPromote(id: string): Promise<MemberChangeResponse> {
    this.requireMember(id);
    if (!this.node.membership().learners.includes(id)) throw EtcdErrors.memberNotLearner();
    await this.promoteThroughLeader(id);
    const members = this.members();
    return { header: this.header(), member: members.find((m) => m.id === id)!, members };
  }

  /**
   * etcd checks on the leader that the learner is in sync before it proposes the promotion (a
   * follower forwards the whole request to the leader). Here the check runs in the leader's Raft
   * loop at the moment of the proposal, so no leader change can come between the two; a follower
   * forwards the request, and forwards it again to the next leader when the one it asked no
   * longer leads, so whichever member proposes the promotion has checked the learner itself.
   */
  private async promoteThroughLeader(id: MemberId): Promise<void> {
    // etcd's request timeout: a promotion commits through a quorum's fsync before the leader answers.
    const timeoutMs = 5_000 + 2 * this.settings.electionTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      await this.leader.known();
      const raft = this.node.status();
      try {
        if (raft.leader === raft.id) {
          await this.promoteAsLeader(id);
          return;
        }
        await this.node.askLeader(MEMBER_PROMOTE_REQUEST, encoder.encode(id), timeoutMs);
        // Applied on the leader: wait until it is applied here too, so the answer lists it.
        await this.node.readIndex();
        return;
      } catch (err) {
        const refusal = err instanceof LeaderRequestError ? promoteRefusal(err) : err;
        const leaderChanged = refusal instanceof Error && refusal.message === EtcdErrors.leaderChanged().message;
        if (!leaderChanged || attempt >= PROMOTE_ATTEMPTS) throw refusal;
      }
    }
  }

  /** On the leader: propose the promotion, refused unless this member still leads and the learner is in sync when it is proposed. */
  private promoteAsLeader(id: MemberId): Promise<ConfState> {
    return this.node.proposeConfChange({ type: ConfChangeType.PromoteLearner, memberId: id, context: new Uint8Array(0) }, (raft) => {
      if (raft.leader !== raft.id) return EtcdErrors.leaderChanged();
      const { voters, learners } = raft.confState;
      if (!learners.includes(id)) return voters.includes(id) ? EtcdErrors.memberNotLearner() : EtcdErrors.memberNotFound();
      return learnerInSync(raft, id) ? undefined : EtcdErrors.learnerNotReady();
    });
  }

  async memberUpdate(id: string, peerURLs: readonly string[]): Promise<MemberChangeResponse> {
    this.requireMember(id);
    if (peerURLs.length === 0 || !peerURLs.every(isUrl)) throw EtcdErrors.memberBadUrls();
    const taken = new Set([...this.node.peerUrls()].filter(([member]) => member !== id).flatMap(([, urls]) => urls));
    if (peerURLs.some((u) => taken.has(u))) throw EtcdErrors.peerUrlExist();
    await this.leader.known();
    await this.node.proposeConfChange({ type: ConfChangeType.UpdateMember, memberId: id, context: memberChangeContext(peerURLs) });
    const members = this.members();
    return { header: this.header(), member: members.find((m) => m.id === id), members };
  }

  private isMember(id: MemberId): boolean {
    const { voters, learners } = this.node.membership();
    return voters.includes(id) || learners.includes(id);
  }

  private requireMember(id: MemberId): void {
    if (!this.isMember(id)) throw EtcdErrors.memberNotFound();
  }

  private members(): Member[] {
    const { voters, learners } = this.node.membership();
    const urls = this.node.peerUrls();
    const describe = (id: MemberId, isLearner: boolean): Member => {
      const record = this.registry.get(id);
      const founder = this.founders.find((m) => m.id === id);
      return {
        id,
        name: record?.name || founder?.name || '',
        peerURLs: record?.peerURLs.length ? record.peerURLs : (urls.get(id) ?? founder?.peerUrls ?? []),
        clientURLs: record?.clientURLs.length ? record.clientURLs : (founder?.clientUrls ?? []),
        isLearner,
      };
    };
    return [...voters.map((id) => describe(id, false)), ...learners.map((id) => describe(id, true))];
  }
}

/** etcd's rule: the learner's log is within 90% of the leader's (`raft` is the leader's status). */
function learnerInSync(raft: RaftStatus, id: MemberId): boolean {
  const learner = raft.match.get(id) ?? 0;
  const leader = raft.match.get(raft.id) ?? 0;
  return learner >= leader * LEARNER_READY_FRACTION;
}

/** A leader's refusal of a forwarded promotion as the error it stands for: etcd's refusals as they are, no answer in time a timeout, the rest (a member that no longer leads) "leader changed". */
function promoteRefusal(err: LeaderRequestError): Error {
  const known = PROMOTE_REFUSALS.map((refusal) => refusal()).find((refusal) => refusal.message === err.message);
  if (known !== undefined) return known;
  if (err.message.includes('did not answer')) return EtcdErrors.timeout();
  return EtcdErrors.leaderChanged();
}

function isUrl(u: string): boolean {
  try {
    const url = new URL(u);
    // etcd's schemes, tcp: for @cairn/transport-tcp and nats: for @cairn/transport-nats (a member's subject: nats://n4).
    return url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'unix:' || url.protocol === 'tcp:' || url.protocol === 'nats:';
  } catch {
    return false;
  }
}
