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
export type ConsensusProvider = () => Pick<Consensus, 'status' | 'cluster'>;
export const CONSENSUS_PROVIDER = Symbol.for('cairn.provider.Consensus');

/** etcd's response header: cluster and member ID, the revision, and the node's current term. */
@injectable()
export class MemberResponseHeaders implements ResponseHeaders {
  private readonly memberId: bigint;
  private consensus: Pick<Consensus, 'status' | 'cluster'> | undefined;

  constructor(
    @inject(MEMBER_IDENTITY) private readonly identity: MemberIdentity,
    @inject(CONSENSUS_PROVIDER) private readonly provide: ConsensusProvider,
  ) {
    this.memberId = BigInt(`0x${identity.memberId}`);
  }

  header(revision: number): ResponseHeader {
    this.consensus ??= this.provide();
    // A joining member learns its cluster ID from the cluster: read it at each answer.
    const clusterId = BigInt(`0x${this.consensus.cluster() || this.identity.clusterId || '0'}`);
    return { clusterId, memberId: this.memberId, revision, raftTerm: this.consensus.status().term };
  }
}
