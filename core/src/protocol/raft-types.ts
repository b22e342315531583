/**
 * The vocabulary of the Raft core: entries, persistent state, messages and the
 * Ready batch the driver turns into I/O. These are shared by the pure state
 * machine, the node driver, every Transport and every storage port.
 */

/** A member's identity: 16 lowercase hex digits, the etcd uint64 member ID. */
export type MemberId = string;
/** "Nobody": no vote cast, no leader known. */
export const NO_MEMBER: MemberId = '';

export enum EntryType {
  /** Application data (an empty Normal entry is the no-op a new leader appends). */
  Normal = 0,
  /** A single-member configuration change, encoded by `encodeConfChange`. */
  ConfChange = 1,
}

export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** What the Raft paper requires to survive a restart, plus the commit index. */
export interface HardState {
  readonly term: number;
  /** Who this member voted for in `term`, or NO_MEMBER. */
  readonly vote: MemberId;
  readonly commit: number;
}

/** The membership a log prefix describes. */
export interface ConfState {
  readonly voters: readonly MemberId[];
  readonly learners: readonly MemberId[];
}

export enum ConfChangeType {
  AddVoter = 0,
  AddLearner = 1,
  RemoveMember = 2,
  PromoteLearner = 3,
  /** A member's peer URLs changed (`member update`); the voter and learner sets stay. */
  UpdateMember = 4,
}

export interface ConfChange {
  readonly type: ConfChangeType;
  readonly memberId: MemberId;
  /** Opaque to Raft; the cluster layer stores peer URLs and names here. */
  readonly context: Uint8Array;
}

/** Describes a snapshot; the bytes themselves live in the SnapshotStore. */
export interface SnapshotMeta {
  /** Last log index the snapshot covers. */
  readonly index: number;
  /** Term of that entry. */
  readonly term: number;
  /** Membership as of `index`. */
  readonly confState: ConfState;
}

export enum MessageType {
  /** Local: start an election (pre-vote first when enabled). */
  Hup = 0,
  /** Local: leader sends heartbeats. */
  Beat = 1,
  /** A proposal; followers forward it to the leader. */
  Prop = 2,
  App = 3,
  AppResp = 4,
  Vote = 5,
  VoteResp = 6,
  PreVote = 7,
  PreVoteResp = 8,
  Heartbeat = 9,
  HeartbeatResp = 10,
  /** Leader → follower: install the snapshot described by `snapshot`. The bytes travel beside it (Transport.sendSnapshot). */
  Snap = 11,
  /** Local: the driver reports whether a snapshot reached `from`. `reject` = failed; otherwise `index` = the index of the snapshot it stored. */
  SnapStatus = 12,
  /** Local: the driver reports that `from` could not be reached. */
  Unreachable = 13,
  /** Ask the leader to hand leadership to `from`. */
  TransferLeader = 14,
  /** Leader → transferee: campaign now, skipping the election timeout. */
  TimeoutNow = 15,
  /** A linearizable read request; `context` identifies it. */
  ReadIndex = 16,
  ReadIndexResp = 17,
  /** Local: leader checks it still hears from a quorum. */
  CheckQuorum = 18,
  /**
   * Not Raft: a request a member sends its leader outside the log (`context` = kind + payload,
   * `index` = request number), and the answer (`reject` = refused, `context` = payload or reason).
   * The driver handles both (leader-requests.ts); the Raft core never sees them.
   */
  LeaderRequest = 19,
  LeaderResponse = 20,
}

/**
 * One Raft message. Fields that a type does not use are 0, false, NO_MEMBER or
 * empty; `snapshot` is set only on Snap.
 */
export interface Message {
  readonly type: MessageType;
  readonly from: MemberId;
  readonly to: MemberId;
  readonly term: number;
  /** App: term of the entry before `entries`. Vote/PreVote: candidate's last log term. */
  readonly logTerm: number;
  /** App: index of the entry before `entries`. AppResp: the index acknowledged or rejected. Vote: candidate's last index. ReadIndexResp: the read index. SnapStatus: the snapshot's index. */
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly snapshot?: SnapshotMeta;
  readonly reject: boolean;
  /** AppResp rejection: the follower's last index, to skip back fast. */
  readonly rejectHint: number;
  /** ReadIndex request id; Heartbeat round id; campaign kind for transfers. */
  readonly context: Uint8Array;
}

export enum Role {
  Follower = 'follower',
  PreCandidate = 'pre-candidate',
  Candidate = 'candidate',
  Leader = 'leader',
}

/** Volatile state worth reporting; changes are announced in Ready. */
export interface SoftState {
  readonly leader: MemberId;
  readonly role: Role;
}

/** A ReadIndex answer: once applied ≥ `index`, the read with `context` may be served locally. */
export interface ReadState {
  readonly index: number;
  readonly context: Uint8Array;
}

/**
 * Everything the driver must do after a batch of steps, in this order:
 * 1. send `messagesBeforePersist` (a leader's appends and heartbeats may go out
 *    while its own disk write is in flight);
 * 2. if `snapshot` is set, install it (state machine, log and stable store);
 * 3. durably append `entries` and save `hardState` (one batch, one fsync);
 * 4. send `messages` (these depend on step 3: votes, append responses);
 * 5. apply `committedEntries` in order, hand `readStates` to waiting reads;
 * 6. call `advance(ready)`.
 * Messages received during steps 1–5 are stepped after `advance`.
 */
export interface Ready {
  readonly softState?: SoftState;
  /** Set only when term, vote or commit changed since the last Ready. */
  readonly hardState?: HardState;
  readonly snapshot?: SnapshotMeta;
  readonly entries: readonly Entry[];
  readonly committedEntries: readonly Entry[];
  readonly messagesBeforePersist: readonly Message[];
  readonly messages: readonly Message[];
  readonly readStates: readonly ReadState[];
  /** True when `entries` or `hardState` must reach stable storage before step 4. */
  readonly mustSync: boolean;
}
