import type { StableState } from '../ports/stable-store.js';
import { NO_MEMBER, Role, type ConfState, type HardState, type MemberId } from '../protocol/raft-types.js';

/**
 * What a RaftNode knows of its member between Readys, shared by the parts of the driver: the
 * state it saves to the StableStore, how far the state machine has applied, who leads, and
 * whether the node has halted (every part checks that after each await).
 */
export class NodeState {
  hardState: HardState = { term: 0, vote: NO_MEMBER, commit: 0 };
  confState: ConfState = { voters: [], learners: [] };
  clusterId = '';
  /** The cluster ID was learned from a peer and is not saved yet. */
  identityUnsaved = false;
  applied = 0;
  appliedTerm = 0;
  /** Where the log was last compacted (or the last snapshot installed): the next compaction counts from here. */
  snapshotIndex = 0;
  leader: MemberId = NO_MEMBER;
  role: Role = Role.Follower;
  /** Drawn at each start: tells this run's proposals from those of an earlier run of the member. */
  incarnation = 0;
  halted = false;

  constructor(readonly id: MemberId) {}

  stableState(): StableState {
    return { hardState: this.hardState, confState: this.confState, clusterId: this.clusterId, memberId: this.id };
  }
}
