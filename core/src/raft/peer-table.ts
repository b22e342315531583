import type { Transport } from '../ports/transport.js';
import { ConfChangeType, type ConfChange, type ConfState, type MemberId } from '../protocol/raft-types.js';
import type { StateMachine } from './state-machine.js';

/**
 * Member → peer URLs of every member this node knows of: the configured founders, the members
 * the state machine recorded, and applied membership changes. The transport holds this very map.
 */
export class PeerTable {
  private readonly urls = new Map<MemberId, readonly string[]>();
  /** Removed while this node ran (the state machine remembers those removed before). */
  private readonly removed = new Set<MemberId>();

  constructor(
    private readonly self: MemberId,
    private readonly transport: Transport,
    private readonly stateMachine: StateMachine,
    private readonly peerUrlsOf: (change: ConfChange) => readonly string[],
  ) {}

  /** Take the configured peers. */
  addConfigured(peers: ReadonlyMap<MemberId, readonly string[]>): void {
    for (const [member, urls] of peers) this.urls.set(member, urls);
  }

  /** Peer URLs the state machine recorded (members added at runtime, updated URLs) win over the configuration's. */
  addRecorded(): void {
    const recorded = this.stateMachine.memberPeerUrls?.();
    if (recorded === undefined) return;
    for (const [member, urls] of recorded) if (urls.length > 0 && member !== this.self) this.urls.set(member, urls);
  }

  /** Members of `conf` not known yet, without URLs. */
  addMembers(conf: ConfState): void {
    for (const m of [...conf.voters, ...conf.learners]) {
      if (!this.urls.has(m)) this.urls.set(m, []);
    }
  }

  /** Follow an applied membership change. */
  applyConfChange(change: ConfChange): void {
    if (change.type === ConfChangeType.RemoveMember) {
      this.removed.add(change.memberId);
      if (change.memberId !== this.self) this.urls.delete(change.memberId);
    } else if (change.type !== ConfChangeType.PromoteLearner || !this.urls.has(change.memberId)) {
      const urls = this.peerUrlsOf(change);
      // An update without URLs, or a promote of a member we know, keeps the URLs we have.
      if (urls.length > 0 || !this.urls.has(change.memberId)) this.urls.set(change.memberId, urls);
    }
  }

  /** True once `id` was removed from the cluster: etcd refuses what a removed member still sends. */
  wasRemoved(id: MemberId): boolean {
    return this.removed.has(id) || this.stateMachine.wasRemoved?.(id) === true;
  }

  /** Hand the table to the transport. */
  publish(): void {
    this.transport.setPeers(this.urls);
  }

  copy(): ReadonlyMap<MemberId, readonly string[]> {
    return new Map(this.urls);
  }
}
