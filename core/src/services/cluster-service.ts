import type { ClusterMemberInfo } from '../assembly/member-application.js';
import { memberIdOf } from '../assembly/member-id.js';
import type { RaftNode } from '../raft/node.js';
import { ConfChangeType, type MemberId } from '../raft/types.js';
import { EtcdError, EtcdErrors, GrpcCode } from './errors.js';
import type { ResponseHeader } from './kv-types.js';
import type { LeaderWait } from './leader-wait.js';
import type { ClusterService, Member, MemberChangeResponse, MemberListResponse } from './registry.js';

/**
 * etcd's Cluster service on a member: the membership is Raft's applied configuration; names and
 * client URLs are known for the founding members (from initial-cluster) and this member.
 */
export class MemberClusterService implements ClusterService {
  constructor(
    private readonly node: RaftNode,
    private readonly known: readonly ClusterMemberInfo[],
    private readonly clusterToken: string,
    private readonly header: () => ResponseHeader,
    private readonly leader: LeaderWait,
  ) {}

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
    const id = memberIdOf(peerURLs, this.clusterToken, String(Date.now()));
    if (this.node.membership().voters.includes(id) || this.node.membership().learners.includes(id)) throw EtcdErrors.memberExist();
    await this.leader.known();
    await this.node.proposeConfChange({
      type: isLearner ? ConfChangeType.AddLearner : ConfChangeType.AddVoter,
      memberId: id,
      context: new TextEncoder().encode(JSON.stringify({ peerURLs })),
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
    await this.node.proposeConfChange({ type: ConfChangeType.PromoteLearner, memberId: id, context: new Uint8Array(0) });
    const members = this.members();
    return { header: this.header(), member: members.find((m) => m.id === id)!, members };
  }

  /** Changing a member's peer URLs needs membership records beyond Raft's configuration (not built yet). */
  async memberUpdate(id: string, _peerURLs: readonly string[]): Promise<MemberChangeResponse> {
    this.requireMember(id);
    throw new EtcdError(GrpcCode.Unimplemented, 'cairn: member update is not supported yet');
  }

  private requireMember(id: MemberId): void {
    const { voters, learners } = this.node.membership();
    if (!voters.includes(id) && !learners.includes(id)) throw EtcdErrors.memberNotFound();
  }

  private members(): Member[] {
    const { voters, learners } = this.node.membership();
    const urls = this.node.peerUrls();
    const describe = (id: MemberId, isLearner: boolean): Member => {
      const info = this.known.find((m) => m.id === id);
      return { id, name: info?.name ?? '', peerURLs: urls.get(id) ?? info?.peerUrls ?? [], clientURLs: info?.clientUrls ?? [], isLearner };
    };
    return [...voters.map((id) => describe(id, false)), ...learners.map((id) => describe(id, true))];
  }
}

function isUrl(u: string): boolean {
  try {
    const url = new URL(u);
    return url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'unix:';
  } catch {
    return false;
  }
}
