import type { Random } from '../ports/random.js';
import type { ConfChange, ConfState, Entry, HardState, MemberId, Message, Ready, Role, SnapshotMeta } from '../protocol/raft-types.js';

/**
 * Known bugs that tests plant on purpose, to prove the simulator and checkers can fail.
 * Never set outside tests.
 */
export interface PlantedBugs {
  /** Grant votes without the "candidate's log is at least as up to date" check. */
  readonly voteWithoutLogCheck?: boolean;
  /** Commit an entry of an earlier term by counting replicas (Raft §5.4.2 forbids it). */
  readonly commitPreviousTermByCount?: boolean;
  /** Answer readIndex at once from local commit, without confirming leadership. */
  readonly readWithoutReadIndex?: boolean;
  /** The node driver: carry on after a failed log append as if it were durable (etcd treats it as fatal). */
  readonly ackAfterFailedSync?: boolean;
  /**
   * Serve reads from a leader lease (answer ReadIndex at once, without a heartbeat round) but never
   * step down for want of a quorum: the lease is only sound with check-quorum (etcd refuses
   * ReadOnlyLeaseBased without CheckQuorum). Only a partition shows it: a leader cut off from the
   * majority keeps answering reads after the others elected a new leader and moved on.
   */
  readonly leaseReadWithoutCheckQuorum?: boolean;
  /**
   * Heartbeats carry the leader's commit index as it is, not capped at what the follower is known
   * to match: a follower still holding entries a deposed leader appended while cut off (never
   * replicated, overwritten elsewhere) takes them as committed and applies them.
   */
  readonly heartbeatCommitBeyondMatch?: boolean;
}

export interface RaftConfig {
  readonly id: MemberId;
  /** Ticks without hearing from a leader before campaigning (randomized in [electionTick, 2·electionTick)). */
  readonly electionTick: number;
  /** Ticks between a leader's heartbeats. */
  readonly heartbeatTick: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  /** Upper bound on the data bytes of one append message. */
  readonly maxSizePerMsg: number;
  /** Bounds on append messages in flight per follower. */
  readonly maxInflightMsgs: number;
  readonly maxInflightBytes: number;
  /** Entries kept in memory behind a snapshot, so a slightly lagging follower gets entries, not a snapshot. */
  readonly catchUpEntries?: number;
  readonly random: Random;
  readonly bugs?: PlantedBugs;
}

/** Where a (re)started member resumes from: what its storage holds. */
export interface RaftInitialState {
  readonly hardState: HardState;
  readonly confState: ConfState;
  /**
   * The compaction point (index and term of the last entry compacted away), if any. Its membership
   * only ever travels in Snap messages, which the driver rewrites to the state it streams.
   */
  readonly snapshot?: SnapshotMeta;
  /** The durable log after the snapshot. */
  readonly entries: readonly Entry[];
  /** Highest index already applied to the state machine (committed entries above it are handed out again). */
  readonly applied: number;
}

export interface RaftStatus {
  readonly id: MemberId;
  readonly term: number;
  readonly vote: MemberId;
  readonly role: Role;
  readonly leader: MemberId;
  readonly commit: number;
  readonly applied: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly confState: ConfState;
  /** Leader only: each member's match index. */
  readonly match: ReadonlyMap<MemberId, number>;
  /** Set while a leadership transfer is in progress. */
  readonly transferee: MemberId;
}

/**
 * The pure consensus state machine: no I/O, no timers, no clock, no Math.random. The driver
 * feeds it ticks and messages and turns each Ready into I/O (see Ready for the order).
 */
export interface RaftCore {
  /** One logical clock tick. */
  tick(): void;
  /** Handle a message from a peer (or a local one such as Hup or SnapStatus). */
  step(message: Message): void;
  /** Propose application data; false when it was dropped (no leader known, or a transfer is under way). */
  propose(data: Uint8Array): boolean;
  /** Propose a membership change; false when dropped (also while another change is uncommitted). */
  proposeConfChange(change: ConfChange): boolean;
  /** Ask for a linearizable read point; the answer arrives as a ReadState with the same context. */
  readIndex(context: Uint8Array): void;
  /** Ask the leader to transfer leadership to `to`. */
  transferLeadership(to: MemberId): void;
  /** Campaign at once (used at single-member bootstrap and by tests). */
  campaign(): void;
  hasReady(): boolean;
  ready(): Ready;
  /** The driver finished all of `ready`'s work. */
  advance(ready: Ready): void;
  /**
   * The state machine is durable at `meta.index` (which must be applied): entries up to
   * `meta.index - catchUpEntries` are dropped from memory, and a follower that needs one of them
   * is sent a Snap message naming this point. The driver streams the state as it is when it sends
   * and rewrites the message's `snapshot` to that (later) index; the follower acknowledges that
   * index, and its progress moves on from there.
   */
  compact(meta: SnapshotMeta): void;
  /** Apply a committed ConfChange entry; returns the new membership. */
  applyConfChange(change: ConfChange): ConfState;
  status(): RaftStatus;
}
