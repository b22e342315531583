import { inject, injectable } from 'inversify';
import { MemberRegistry } from '../cluster/member-registry.js';
import { FOUNDING_MEMBERS, type ClusterMemberInfo } from '../cluster/cluster-member-info.js';
import { MvccStore } from '../mvcc/mvcc-store.js';
import { MEMBER_SETTINGS, type MemberSettings } from '../ports/member-settings.js';
import { RESPONSE_HEADERS, type ResponseHeaders } from '../api/response-headers.js';
import { memberIdOf } from '../cluster/member-id.js';
import { memberChangeContext } from '../raft/conf-change.js';
import { LeaderRequestError } from '../raft/leader-requests.js';
import { CONSENSUS, type Consensus } from '../raft/consensus.js';
import { ConfChangeType, type MemberId } from '../protocol/raft-types.js';
import { EtcdError, EtcdErrors, GrpcCode } from '../api/errors.js';
import type { ResponseHeader } from '../api/kv-types.js';
import { LeaderWait } from './leader-wait.js';
import type { ClusterService, Member, MemberChangeResponse, MemberListResponse } from '../api/services.js';

/** etcd promotes a learner only once its log is within this fraction of the leader's. */
const LEARNER_READY_FRACTION = 0.9;
/** The leader request a follower checks a learner's readiness with: payload = member ID, answer = 1 byte (1 = ready). */
const LEARNER_READY_REQUEST = 'learner-ready';
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
    @inject(MEMBER_SETTINGS) private readonly settings: Pick<MemberSettings, 'initialClusterToken'>,
    @inject(MvccStore) private readonly store: Pick<MvccStore, 'currentRevision'>,
    @inject(RESPONSE_HEADERS) private readonly headers: ResponseHeaders,
    @inject(LeaderWait) private readonly leader: LeaderWait,
  ) {
    node.serveLeaderRequests(LEARNER_READY_REQUEST, (payload) => Uint8Array.of(this.learnerReadyHere(decoder.decode(payload)) ? 1 : 0));
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
    // Derived like a founder's ID, so the new member computes its own from its flags.
    const id = memberIdOf(peerURLs, this.settings.initialClusterToken);
    if (this.registry.wasRemoved(id)) {
      throw new EtcdError(
        GrpcCode.FailedPrecondition,
        `cairn: member ${id} (peer URLs ${peerURLs.join(',')}) was removed from this cluster and cannot come back under the same ID; add it with another peer URL`,
      );
    }
    if (this.isMember(id)) throw EtcdErrors.memberExist();
    await this.leader.known();
    await this.node.proposeConfChange({
      type: isLearner ? ConfChangeType.AddLearner : ConfChangeType.AddVoter,
      memberId: id,
      context: memberChangeContext(peerURLs),
    });
    const members = this.members();
    return { header: this.header(), member: members.find((m) => m.id === id)!, members };
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
    await this.leader.known();
    // Only the leader knows how far the learner's log is: a follower asks it (etcd forwards the
    // whole request to the leader).
    const raft = this.node.status();
    const ready = raft.leader === raft.id ? this.learnerReadyHere(id) : await this.learnerReadyOnLeader(id);
    if (!ready) throw EtcdErrors.learnerNotReady();
    await this.node.proposeConfChange({ type: ConfChangeType.PromoteLearner, memberId: id, context: new Uint8Array(0) });
    const members = this.members();
    return { header: this.header(), member: members.find((m) => m.id === id)!, members };
  }

  /** On the leader: is the learner's log within 90% of ours? */
  private learnerReadyHere(id: MemberId): boolean {
    const raft = this.node.status();
    if (raft.leader !== raft.id) throw new Error(`member ${raft.id} is not the leader`);
    const learner = raft.match.get(id) ?? 0;
    const leader = raft.match.get(raft.id) ?? 0;
    return learner >= leader * LEARNER_READY_FRACTION;
  }

  private async learnerReadyOnLeader(id: MemberId): Promise<boolean> {
    try {
      return (await this.node.askLeader(LEARNER_READY_REQUEST, encoder.encode(id)))[0] === 1;
    } catch (err) {
      // The leader changed or did not answer: the client may retry, as with a lost proposal.
      if (err instanceof LeaderRequestError) throw EtcdErrors.leaderChanged();
      throw err;
    }
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

function isUrl(u: string): boolean {
  try {
    const url = new URL(u);
    // etcd's schemes, tcp: for @cairn/transport-tcp and nats: for @cairn/transport-nats (a member's subject: nats://n4).
    return url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'unix:' || url.protocol === 'tcp:' || url.protocol === 'nats:';
  } catch {
    return false;
  }
}
