import { inject, injectable } from 'inversify';
import { BACKEND, type Backend, type BackendOp } from '../ports/backend.js';
import { metaKey } from '../mvcc/revision-key.js';
import { peerUrlsOfContext } from '../raft/conf-change.js';
import { ConfChangeType, type ConfChange, type MemberId } from '../protocol/raft-types.js';

/** What the cluster knows of one member beyond Raft's voter/learner sets. */
export interface MemberRecord {
  readonly id: MemberId;
  /** Empty until the member published it (etcd shows such a member as "unstarted"). */
  readonly name: string;
  readonly peerURLs: readonly string[];
  readonly clientURLs: readonly string[];
}

const KEY = metaKey('members');

interface StoredMembers {
  readonly members: MemberRecord[];
  readonly removed: MemberId[];
}

/**
 * The cluster's member records (peer URLs, names, client URLs) and the IDs it removed. They change
 * only by applied Raft entries (membership changes and members publishing their attributes) and
 * live in the Backend beside the MVCC metadata, so every member agrees, a restart remembers, and a
 * snapshot carries them to a member that catches up.
 */
@injectable()
export class MemberRegistry {
  private records = new Map<MemberId, MemberRecord>();
  private removed = new Set<MemberId>();

  constructor(@inject(BACKEND) private readonly backend: Backend) {}

  /** Read the records from the Backend (at open, and after a snapshot replaced it). */
  async load(): Promise<void> {
    const bytes = await this.backend.get(KEY);
    this.records = new Map();
    this.removed = new Set();
    if (bytes === undefined) return;
    const stored = JSON.parse(Buffer.from(bytes).toString('utf8')) as StoredMembers;
    for (const m of stored.members) this.records.set(m.id, m);
    for (const id of stored.removed) this.removed.add(id);
  }

  get(id: MemberId): MemberRecord | undefined {
    return this.records.get(id);
  }

  all(): MemberRecord[] {
    return [...this.records.values()];
  }

  /** True once `id` was removed: etcd never lets a removed ID back in. */
  wasRemoved(id: MemberId): boolean {
    return this.removed.has(id);
  }

  /** Peer URLs of every recorded member. */
  peerUrls(): Map<MemberId, readonly string[]> {
    return new Map([...this.records.values()].map((m) => [m.id, m.peerURLs]));
  }

  /** The backend writes for an applied membership change; the registry changes with them. */
  applyConfChange(change: ConfChange): BackendOp[] {
    const id = change.memberId;
    const known = this.records.get(id);
    switch (change.type) {
      case ConfChangeType.AddVoter:
      case ConfChangeType.AddLearner:
      case ConfChangeType.UpdateMember: {
        const peerURLs = peerUrlsOfContext(change.context);
        this.records.set(id, {
          id,
          name: known?.name ?? '',
          clientURLs: known?.clientURLs ?? [],
          peerURLs: peerURLs.length > 0 ? peerURLs : (known?.peerURLs ?? []),
        });
        break;
      }
      case ConfChangeType.PromoteLearner:
        return [];
      case ConfChangeType.RemoveMember:
        this.records.delete(id);
        this.removed.add(id);
        break;
    }
    return [this.write()];
  }

  /** The backend writes for a member's published name and client URLs. */
  publish(id: MemberId, name: string, clientURLs: readonly string[]): BackendOp[] {
    const known = this.records.get(id);
    // A member removed before its publish was applied stays removed.
    if (known === undefined) return [];
    this.records.set(id, { ...known, name, clientURLs: [...clientURLs] });
    return [this.write()];
  }

  private write(): BackendOp {
    const stored: StoredMembers = { members: [...this.records.values()].sort((a, b) => a.id.localeCompare(b.id)), removed: [...this.removed].sort() };
    return { type: 'put', key: KEY, value: Buffer.from(JSON.stringify(stored), 'utf8') };
  }
}
