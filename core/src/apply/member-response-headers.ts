import { inject, injectable } from 'inversify';
import type { ResponseHeader } from '../api/kv-types.js';
import type { ResponseHeaders } from '../api/response-headers.js';
import { MEMBER_IDENTITY, type MemberIdentity } from '../ports/member-identity.js';
import type { Consensus } from '../raft/consensus.js';

/**
 * Resolves the consensus node when first asked. The header needs the node's term, and the node
 * needs the state machine, which needs the MVCC store, which needs headers: the store only asks
 * for a header once entries are applied, after the node exists, so the graph resolves lazily here.
 */
export type ConsensusProvider = () => Pick<Consensus, 'term' | 'cluster'>;
export const CONSENSUS_PROVIDER = Symbol.for('cairn.provider.Consensus');

/**
 * etcd's response header: cluster and member ID, the revision, and the node's current term. Every
 * applied write builds one on every member, so it costs no parse and no status object per call.
 */
@injectable()
export class MemberResponseHeaders implements ResponseHeaders {
  private readonly memberId: bigint;
  private consensus: Pick<Consensus, 'term' | 'cluster'> | undefined;
  /** The cluster ID as last read, and its value. */
  private clusterHex = '';
  private clusterId = 0n;

  constructor(
    @inject(MEMBER_IDENTITY) private readonly identity: MemberIdentity,
    @inject(CONSENSUS_PROVIDER) private readonly provide: ConsensusProvider,
  ) {
    this.memberId = BigInt(`0x${identity.memberId}`);
  }

  header(revision: number): ResponseHeader {
    this.consensus ??= this.provide();
    // A joining member learns its cluster ID from the cluster: read it at each answer, parse it once.
    const hex = this.consensus.cluster() || this.identity.clusterId || '0';
    if (hex !== this.clusterHex) {
      this.clusterHex = hex;
      this.clusterId = BigInt(`0x${hex}`);
    }
    return { clusterId: this.clusterId, memberId: this.memberId, revision, raftTerm: this.consensus.term() };
  }
}
