import type { RaftConfig, RaftInitialState } from './core-api.js';
import { Progress } from './progress.js';
import { RaftInvariantError, RaftLog } from './raft-log.js';
import { ReadOnlyQueue } from './read-only.js';
import {
  MessageType,
  NO_MEMBER,
  Role,
  type ConfState,
  type HardState,
  type MemberId,
  type Message,
  type ReadState,
  type SnapshotMeta,
  type SoftState,
} from '../protocol/raft-types.js';
import { message as messageOf } from '../protocol/message.js';

export const EMPTY = new Uint8Array(0);

/** Build a message from its fields (the object form Raft's handlers use); the rest keep their zero values. */
export function message(fields: Partial<Message> & Pick<Message, 'type' | 'from' | 'to'>): Message {
  return messageOf(fields.type, fields.from, fields.to, fields);
}

/**
 * The first layer of Raft (see raft.ts): a member's term, vote, role and log, the per-member
 * progress a leader keeps, the output gathered for the next Ready, and the role transitions.
 */
export abstract class RaftState {
  protected readonly id: MemberId;
  protected term: number;
  protected vote: MemberId;
  protected role = Role.Follower;
  protected leader: MemberId = NO_MEMBER;
  protected readonly log: RaftLog;
  protected conf: ConfState;

  protected readonly progress = new Map<MemberId, Progress>();
  protected readonly votes = new Map<MemberId, boolean>();
  protected readonly readOnly = new ReadOnlyQueue();
  /** ReadIndex requests that arrived before this leader committed an entry of its own term. */
  protected readonly readsBeforeCommit: Message[] = [];

  protected electionElapsed = 0;
  protected heartbeatElapsed = 0;
  protected randomizedElectionTimeout = 0;
  /** Index of the newest configuration change in the log; another waits until it is applied. */
  protected pendingConfIndex = 0;
  protected transferee: MemberId = NO_MEMBER;
  /** The latest compaction point (what Snap messages to lagging followers name; the driver sends the state as of a later index). */
  protected snapshotMeta: SnapshotMeta | undefined;

  // Pending output, collected into the next Ready.
  protected outbox: Message[] = [];
  protected readStates: ReadState[] = [];
  protected pendingSnapshot: SnapshotMeta | undefined;
  protected lastHardState: HardState;
  protected lastSoftState: SoftState;

  constructor(
    protected readonly config: RaftConfig,
    initial: RaftInitialState,
  ) {
    if (config.electionTick <= config.heartbeatTick) {
      throw new RangeError('electionTick must be greater than heartbeatTick');
    }
    this.id = config.id;
    this.term = initial.hardState.term;
    this.vote = initial.hardState.vote;
    this.log = new RaftLog(initial.snapshot, initial.entries, initial.hardState.commit, initial.applied);
    this.conf = initial.confState;
    this.snapshotMeta = initial.snapshot;
    this.lastHardState = this.hardState();
    this.lastSoftState = { leader: NO_MEMBER, role: Role.Follower };
    this.resetElectionTimeout();
  }

  protected hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  protected get promotable(): boolean {
    return this.conf.voters.includes(this.id);
  }

  protected reset(term: number): void {
    if (term !== this.term) {
      this.term = term;
      this.vote = NO_MEMBER;
    }
    this.leader = NO_MEMBER;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetElectionTimeout();
    this.transferee = NO_MEMBER;
    this.votes.clear();
    this.progress.clear();
    this.pendingConfIndex = 0;
    this.readOnly.clear();
    this.readsBeforeCommit.length = 0;
  }

  protected resetElectionTimeout(): void {
    const base = this.config.electionTick;
    this.randomizedElectionTimeout = this.config.random.int(base, 2 * base);
  }

  protected becomeFollower(term: number, leader: MemberId): void {
    this.reset(term);
    this.role = Role.Follower;
    this.leader = leader;
  }

  protected becomePreCandidate(): void {
    if (this.role === Role.Leader) throw new RaftInvariantError('a leader cannot become a pre-candidate');
    // Pre-vote changes neither term nor vote: a partitioned member cannot disrupt the cluster.
    this.votes.clear();
    this.role = Role.PreCandidate;
    this.leader = NO_MEMBER;
  }

  protected becomeCandidate(): void {
    if (this.role === Role.Leader) throw new RaftInvariantError('a leader cannot become a candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = Role.Candidate;
  }

  protected newProgress(next: number): Progress {
    return new Progress(next, this.config.maxInflightMsgs, this.config.maxInflightBytes);
  }

  protected send(m: Message): void {
    // Requests and answers carry our term; a forwarded proposal or read is local to the leader.
    const keepsTerm = m.type === MessageType.Prop || m.type === MessageType.ReadIndex || m.type === MessageType.TransferLeader;
    this.outbox.push(m.term === 0 && !keepsTerm ? { ...m, term: this.term } : m);
  }
}
