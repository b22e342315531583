import type { RaftConfig, RaftCore, RaftInitialState, RaftStatus } from './core-api.js';
import { applyConfChangeTo, encodeConfChange } from './conf-change.js';
import { Progress, ProgressState } from './progress.js';
import { committedIndex, majority, tallyVotes, VoteResult } from './quorum.js';
import { RaftInvariantError, RaftLog } from './raft-log.js';
import { ReadOnlyQueue } from './read-only.js';
import {
  EntryType, MessageType, NO_MEMBER, Role,
  type ConfChange, type ConfState, type Entry, type HardState, type MemberId, type Message, type ReadState,
  type Ready, type SnapshotMeta, type SoftState,
} from '../protocol/raft-types.js';

const EMPTY = new Uint8Array(0);
/** Context of a Vote sent because the leader asked for a transfer: it overrides leader leases. */
const TRANSFER_CONTEXT = new TextEncoder().encode('transfer');

const isTransferCampaign = (m: Message): boolean =>
  m.context.length === TRANSFER_CONTEXT.length && m.context.every((b, i) => b === TRANSFER_CONTEXT[i]);

/** Build a message; fields a type does not use keep their zero values. */
function message(fields: Partial<Message> & Pick<Message, 'type' | 'from' | 'to'>): Message {
  return {
    term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, context: EMPTY,
    ...fields,
  };
}

/** Messages a leader may send while its own disk write is in flight (Raft thesis §10.2.1). */
const sendableBeforePersist = (m: Message): boolean =>
  m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap;

/**
 * The Raft consensus algorithm as a pure, synchronous state machine (Ongaro & Ousterhout, and
 * the thesis' pre-vote, check-quorum, leadership transfer and ReadIndex). It owns no I/O: see
 * RaftCore and Ready for how a driver runs it.
 */
export class Raft implements RaftCore {
  private readonly id: MemberId;
  private term: number;
  private vote: MemberId;
  private role = Role.Follower;
  private leader: MemberId = NO_MEMBER;
  private readonly log: RaftLog;
  private conf: ConfState;

  private readonly progress = new Map<MemberId, Progress>();
  private readonly votes = new Map<MemberId, boolean>();
  private readonly readOnly = new ReadOnlyQueue();
  /** ReadIndex requests that arrived before this leader committed an entry of its own term. */
  private readonly readsBeforeCommit: Message[] = [];

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  /** Index of the newest configuration change in the log; another waits until it is applied. */
  private pendingConfIndex = 0;
  private transferee: MemberId = NO_MEMBER;
  /** The latest compaction point (what Snap messages to lagging followers name; the driver sends the state as of a later index). */
  private snapshotMeta: SnapshotMeta | undefined;

  // Pending output, collected into the next Ready.
  private outbox: Message[] = [];
  private readStates: ReadState[] = [];
  private pendingSnapshot: SnapshotMeta | undefined;
  private lastHardState: HardState;
  private lastSoftState: SoftState;

  constructor(private readonly config: RaftConfig, initial: RaftInitialState) {
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

  // ---- the RaftCore interface ----

  tick(): void {
    if (this.role === Role.Leader) this.tickLeader();
    else this.tickElection();
  }

  step(m: Message): void {
    if (!this.stepTerm(m)) return;
    switch (m.type) {
      case MessageType.Hup:
        this.hup(false);
        return;
      case MessageType.Vote:
      case MessageType.PreVote:
        this.handleVoteRequest(m);
        return;
      default:
        break;
    }
    switch (this.role) {
      case Role.Leader:
        this.stepLeader(m);
        return;
      case Role.Candidate:
      case Role.PreCandidate:
        this.stepCandidate(m);
        return;
      case Role.Follower:
        this.stepFollower(m);
        return;
    }
  }

  propose(data: Uint8Array): boolean {
    return this.proposeEntry(EntryType.Normal, data);
  }

  proposeConfChange(change: ConfChange): boolean {
    return this.proposeEntry(EntryType.ConfChange, encodeConfChange(change));
  }

  readIndex(context: Uint8Array): void {
    this.step(message({ type: MessageType.ReadIndex, from: this.id, to: this.id, context }));
  }

  transferLeadership(to: MemberId): void {
    // etcd's convention: a TransferLeader message is "from" the transferee.
    this.step(message({ type: MessageType.TransferLeader, from: to, to: this.id }));
  }

  campaign(): void {
    this.hup(false);
  }

  hasReady(): boolean {
    return this.outbox.length > 0
      || this.readStates.length > 0
      || this.pendingSnapshot !== undefined
      || this.log.stabled < this.log.lastIndex()
      || this.log.committed > this.log.applied
      || !sameHardState(this.hardState(), this.lastHardState)
      || this.lastSoftState.leader !== this.leader || this.lastSoftState.role !== this.role;
  }

  ready(): Ready {
    const hard = this.hardState();
    const soft: SoftState = { leader: this.leader, role: this.role };
    const hardChanged = !sameHardState(hard, this.lastHardState);
    const softChanged = soft.leader !== this.lastSoftState.leader || soft.role !== this.lastSoftState.role;
    const termOrVoteChanged = hard.term !== this.lastHardState.term || hard.vote !== this.lastHardState.vote;
    const entries = this.log.unstable();
    const outbox = this.outbox;
    this.outbox = [];
    const readStates = this.readStates;
    this.readStates = [];
    this.lastHardState = hard;
    this.lastSoftState = soft;
    return {
      ...(softChanged ? { softState: soft } : {}),
      ...(hardChanged ? { hardState: hard } : {}),
      ...(this.pendingSnapshot === undefined ? {} : { snapshot: this.pendingSnapshot }),
      entries,
      committedEntries: this.pendingSnapshot === undefined ? this.log.nextCommitted() : [],
      messagesBeforePersist: outbox.filter(sendableBeforePersist),
      messages: outbox.filter((m) => !sendableBeforePersist(m)),
      readStates,
      mustSync: entries.length > 0 || termOrVoteChanged || this.pendingSnapshot !== undefined,
    };
  }

  advance(rd: Ready): void {
    if (rd.snapshot !== undefined) {
      this.log.applied = Math.max(this.log.applied, rd.snapshot.index);
      this.log.stabled = Math.max(this.log.stabled, rd.snapshot.index);
      if (this.pendingSnapshot === rd.snapshot) this.pendingSnapshot = undefined;
    }
    const lastEntry = rd.entries[rd.entries.length - 1];
    // The log may have moved on (not between ready and advance, by the driver's contract), so
    // only what is still ours at that index counts as durable.
    if (lastEntry !== undefined && this.log.matchTerm(lastEntry.index, lastEntry.term)) {
      this.log.stabled = Math.max(this.log.stabled, lastEntry.index);
    }
    const lastApplied = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastApplied !== undefined) this.log.applied = Math.max(this.log.applied, lastApplied.index);
  }

  compact(meta: SnapshotMeta): void {
    if (meta.index > this.log.applied) {
      throw new RaftInvariantError(`snapshot at ${meta.index} is past the applied index ${this.log.applied}`);
    }
    if (this.snapshotMeta === undefined || meta.index > this.snapshotMeta.index) this.snapshotMeta = meta;
    this.log.compactTo(meta.index - (this.config.catchUpEntries ?? 0));
  }

  applyConfChange(change: ConfChange): ConfState {
    this.conf = applyConfChangeTo(this.conf, change);
    if (this.role !== Role.Leader) return this.conf;
    const members = [...this.conf.voters, ...this.conf.learners];
    for (const m of members) {
      if (!this.progress.has(m)) this.progress.set(m, this.newProgress(this.log.lastIndex() + 1));
    }
    for (const m of [...this.progress.keys()]) {
      if (!members.includes(m)) this.progress.delete(m);
    }
    if (this.transferee !== NO_MEMBER && !this.conf.voters.includes(this.transferee)) this.transferee = NO_MEMBER;
    if (!this.conf.voters.includes(this.id)) {
      // A leader that removed itself stops leading; the others elect a successor.
      this.becomeFollower(this.term, NO_MEMBER);
      return this.conf;
    }
    // A smaller quorum may commit at once.
    if (this.maybeCommit()) this.broadcastAppend();
    else for (const m of members) if (m !== this.id) this.sendAppend(m);
    return this.conf;
  }

  status(): RaftStatus {
    const match = new Map<MemberId, number>();
    if (this.role === Role.Leader) for (const [m, pr] of this.progress) match.set(m, pr.match);
    return {
      id: this.id, term: this.term, vote: this.vote, role: this.role, leader: this.leader,
      commit: this.log.committed, applied: this.log.applied,
      firstIndex: this.log.firstIndex(), lastIndex: this.log.lastIndex(),
      confState: this.conf, match, transferee: this.transferee,
    };
  }

  // ---- state transitions ----

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  private get promotable(): boolean {
    return this.conf.voters.includes(this.id);
  }

  private reset(term: number): void {
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

  private resetElectionTimeout(): void {
    const base = this.config.electionTick;
    this.randomizedElectionTimeout = this.config.random.int(base, 2 * base);
  }

  private becomeFollower(term: number, leader: MemberId): void {
    this.reset(term);
    this.role = Role.Follower;
    this.leader = leader;
  }

  private becomePreCandidate(): void {
    if (this.role === Role.Leader) throw new RaftInvariantError('a leader cannot become a pre-candidate');
    // Pre-vote changes neither term nor vote: a partitioned member cannot disrupt the cluster.
    this.votes.clear();
    this.role = Role.PreCandidate;
    this.leader = NO_MEMBER;
  }

  private becomeCandidate(): void {
    if (this.role === Role.Leader) throw new RaftInvariantError('a leader cannot become a candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = Role.Candidate;
  }

  private becomeLeader(): void {
    if (this.role === Role.Follower) throw new RaftInvariantError('a follower cannot become leader without an election');
    this.reset(this.term);
    this.role = Role.Leader;
    this.leader = this.id;
    const next = this.log.lastIndex() + 1;
    for (const m of [...this.conf.voters, ...this.conf.learners]) {
      const pr = this.newProgress(next);
      if (m === this.id) {
        pr.match = next - 1;
        pr.becomeReplicate();
        pr.recentActive = true;
      }
      this.progress.set(m, pr);
    }
    // Whatever conf change is in the uncommitted tail may be pending: allow none until it applies.
    this.pendingConfIndex = this.log.lastIndex();
    // The no-op of the new term (§5.4.2): committing it commits everything before it.
    this.appendEntries([{ index: 0, term: 0, type: EntryType.Normal, data: EMPTY }]);
  }

  private newProgress(next: number): Progress {
    return new Progress(next, this.config.maxInflightMsgs, this.config.maxInflightBytes);
  }

  // ---- elections ----

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.config.electionTick) {
      this.electionElapsed = 0;
      if (this.config.checkQuorum && !this.quorumActive()) {
        this.becomeFollower(this.term, NO_MEMBER);
        return;
      }
      // A transfer that did not finish within an election timeout is abandoned.
      this.transferee = NO_MEMBER;
    }
    if (this.heartbeatElapsed >= this.config.heartbeatTick) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat();
    }
  }

  /** Check quorum (thesis §6.2): did a quorum of voters talk to us in the last election timeout? */
  private quorumActive(): boolean {
    let active = 0;
    for (const v of this.conf.voters) {
      const pr = this.progress.get(v);
      if (v === this.id || pr?.recentActive === true) active++;
      if (pr !== undefined && v !== this.id) pr.recentActive = false;
    }
    for (const [m, pr] of this.progress) if (m !== this.id && !this.conf.voters.includes(m)) pr.recentActive = false;
    return active >= majority(this.conf.voters.length);
  }

  private hup(transfer: boolean): void {
    if (this.role === Role.Leader || !this.promotable) return;
    // A configuration change committed but not applied may change who votes: wait for it.
    for (const e of this.log.slice(this.log.applied + 1, this.log.committed + 1) ?? []) {
      if (e.type === EntryType.ConfChange) return;
    }
    if (this.config.preVote && !transfer) this.runElection(true, false);
    else this.runElection(false, transfer);
  }

  private runElection(pre: boolean, transfer: boolean): void {
    if (pre) this.becomePreCandidate();
    else this.becomeCandidate();
    const term = pre ? this.term + 1 : this.term;
    this.votes.set(this.id, true);
    if (tallyVotes(this.conf.voters, this.votes) === VoteResult.Won) {
      if (pre) this.runElection(false, transfer);
      else {
        this.becomeLeader();
        this.broadcastAppend();
      }
      return;
    }
    for (const v of this.conf.voters) {
      if (v === this.id) continue;
      this.send(message({
        type: pre ? MessageType.PreVote : MessageType.Vote, from: this.id, to: v, term,
        index: this.log.lastIndex(), logTerm: this.log.lastTerm(),
        context: transfer ? TRANSFER_CONTEXT : EMPTY,
      }));
    }
  }

  private handleVoteRequest(m: Message): void {
    const pre = m.type === MessageType.PreVote;
    const canVote = this.vote === m.from
      || (this.vote === NO_MEMBER && this.leader === NO_MEMBER)
      || (pre && m.term > this.term);
    const upToDate = this.config.bugs?.voteWithoutLogCheck === true || this.log.isUpToDate(m.index, m.logTerm);
    const respType = pre ? MessageType.PreVoteResp : MessageType.VoteResp;
    if (canVote && upToDate) {
      // The response carries the request's term so the candidate recognizes it, even for a pre-vote.
      this.send(message({ type: respType, from: this.id, to: m.from, term: m.term }));
      if (!pre) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send(message({ type: respType, from: this.id, to: m.from, term: this.term, reject: true }));
    }
  }

  /**
   * The term rules every message goes through first. Returns false when the message is spent
   * (ignored, or answered here).
   */
  private stepTerm(m: Message): boolean {
    if (m.term === 0) return true; // local message
    if (m.term > this.term) {
      if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
        // Leader lease (thesis §4.2.3): while we hear from a leader, refuse to help depose it.
        const inLease = this.config.checkQuorum && this.leader !== NO_MEMBER && this.electionElapsed < this.config.electionTick;
        if (inLease && !isTransferCampaign(m)) return false;
      }
      if (m.type === MessageType.PreVote) return true; // a pre-vote never changes our term
      if (m.type === MessageType.PreVoteResp && !m.reject) return true; // we take the term when we campaign
      const fromLeader = m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap;
      this.becomeFollower(m.term, fromLeader ? m.from : NO_MEMBER);
      return true;
    }
    if (m.term < this.term) {
      if ((this.config.checkQuorum || this.config.preVote) && (m.type === MessageType.Heartbeat || m.type === MessageType.App)) {
        // A stale leader cut off from us: tell it our term so it steps down, instead of staying silent.
        this.send(message({ type: MessageType.AppResp, from: this.id, to: m.from, term: this.term }));
      } else if (m.type === MessageType.PreVote) {
        this.send(message({ type: MessageType.PreVoteResp, from: this.id, to: m.from, term: this.term, reject: true }));
      }
      return false;
    }
    return true;
  }

  private stepCandidate(m: Message): void {
    const myResponse = this.role === Role.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
    switch (m.type) {
      case MessageType.Prop:
        return; // no leader to take it
      case MessageType.App:
        this.becomeFollower(m.term, m.from);
        this.handleAppend(m);
        return;
      case MessageType.Heartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case MessageType.PreVoteResp:
      case MessageType.VoteResp: {
        if (m.type !== myResponse) return;
        this.votes.set(m.from, !m.reject);
        const result = tallyVotes(this.conf.voters, this.votes);
        if (result === VoteResult.Won) {
          if (this.role === Role.PreCandidate) this.runElection(false, false);
          else {
            this.becomeLeader();
            this.broadcastAppend();
          }
        } else if (result === VoteResult.Lost) {
          this.becomeFollower(this.term, NO_MEMBER);
        }
        return;
      }
      case MessageType.TimeoutNow:
        return; // already campaigning
      default:
        return;
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.Prop:
        if (this.leader === NO_MEMBER) return;
        this.send({ ...m, from: this.id, to: this.leader, term: 0 });
        return;
      case MessageType.App:
        this.electionElapsed = 0;
        this.leader = m.from;
        this.handleAppend(m);
        return;
      case MessageType.Heartbeat:
        this.electionElapsed = 0;
        this.leader = m.from;
        this.handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.electionElapsed = 0;
        this.leader = m.from;
        this.handleSnapshot(m);
        return;
      case MessageType.TransferLeader:
        if (this.leader === NO_MEMBER) return;
        this.send({ ...m, to: this.leader, term: 0 });
        return;
      case MessageType.TimeoutNow:
        // The leader hands over: campaign at once, skipping pre-vote and the leases of others.
        if (this.promotable) this.hup(true);
        return;
      case MessageType.ReadIndex:
        if (this.config.bugs?.readWithoutReadIndex === true) {
          this.readStates.push({ index: this.log.committed, context: m.context });
          return;
        }
        if (this.leader === NO_MEMBER) return;
        this.send({ ...m, from: this.id, to: this.leader, term: 0 });
        return;
      case MessageType.ReadIndexResp:
        this.readStates.push({ index: m.index, context: m.context });
        return;
      default:
        return;
    }
  }

  // ---- follower side of replication ----

  private handleAppend(m: Message): void {
    if (m.index < this.log.committed) {
      this.send(message({ type: MessageType.AppResp, from: this.id, to: m.from, term: this.term, index: this.log.committed }));
      return;
    }
    const last = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (last !== undefined) {
      this.send(message({ type: MessageType.AppResp, from: this.id, to: m.from, term: this.term, index: last }));
    } else {
      this.send(message({
        type: MessageType.AppResp, from: this.id, to: m.from, term: this.term,
        index: m.index, reject: true, rejectHint: this.log.lastIndex(),
      }));
    }
  }

  private handleHeartbeat(m: Message): void {
    // The leader sends min(its commit, our match): safe to take as is, bounded by what we have.
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send(message({ type: MessageType.HeartbeatResp, from: this.id, to: m.from, term: this.term, context: m.context }));
  }

  private handleSnapshot(m: Message): void {
    const meta = m.snapshot;
    if (meta === undefined) return;
    if (meta.index <= this.log.committed) {
      // Nothing new in it.
      this.send(message({ type: MessageType.AppResp, from: this.id, to: m.from, term: this.term, index: this.log.committed }));
      return;
    }
    if (this.log.matchTerm(meta.index, meta.term)) {
      // We already have the entries it covers: just move commit up (Log Matching).
      this.log.commitTo(meta.index);
    } else {
      this.log.restore(meta);
      this.conf = meta.confState;
      this.pendingSnapshot = meta;
      // As leader later, this is what a follower behind our log's start gets.
      this.snapshotMeta = meta;
    }
    this.send(message({ type: MessageType.AppResp, from: this.id, to: m.from, term: this.term, index: this.log.lastIndex() }));
  }

  // ---- leader ----

  private stepLeader(m: Message): void {
    switch (m.type) {
      case MessageType.Beat:
        this.broadcastHeartbeat();
        return;
      case MessageType.CheckQuorum:
        if (!this.quorumActive()) this.becomeFollower(this.term, NO_MEMBER);
        return;
      case MessageType.Prop:
        this.leaderPropose(m.entries);
        return;
      case MessageType.ReadIndex:
        this.leaderReadIndex(m);
        return;
      case MessageType.TransferLeader:
        this.leaderTransfer(m.from);
        return;
      default:
        break;
    }
    const pr = this.progress.get(m.from);
    if (pr === undefined) return; // not (or no longer) a member
    switch (m.type) {
      case MessageType.AppResp:
        pr.recentActive = true;
        this.handleAppendResponse(m, pr);
        return;
      case MessageType.HeartbeatResp:
        this.handleHeartbeatResponse(m, pr);
        return;
      case MessageType.SnapStatus:
        if (pr.state !== ProgressState.Snapshot) return;
        // The driver streams the state as of its applied index, at or past the point we named:
        // probe after what the follower now holds, not after what we asked for.
        if (m.reject) pr.pendingSnapshot = 0;
        else pr.pendingSnapshot = Math.max(pr.pendingSnapshot, m.index);
        pr.becomeProbe();
        // Wait for the follower's answer (or the next heartbeat) before probing again.
        pr.probeSent = true;
        return;
      case MessageType.Unreachable:
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        return;
      default:
        return;
    }
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    if (m.reject) {
      if (pr.maybeDecreaseTo(m.index, m.rejectHint)) {
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index)) return;
    if (pr.state === ProgressState.Probe) {
      pr.becomeReplicate();
    } else if (pr.state === ProgressState.Snapshot && pr.match >= pr.pendingSnapshot) {
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === ProgressState.Replicate) {
      pr.inflights.freeTo(m.index);
    }
    if (this.maybeCommit()) {
      this.broadcastAppend();
    } else if (wasPaused) {
      // It heard nothing from us while paused: send what it lacks, or at least our commit index.
      this.sendAppend(m.from);
    }
    // Keep the pipeline full while there is more to send.
    while (pr.state === ProgressState.Replicate && pr.next <= this.log.lastIndex() && !pr.isPaused()) {
      if (!this.sendAppend(m.from, false)) break;
    }
    if (m.from === this.transferee && pr.match === this.log.lastIndex()) {
      this.send(message({ type: MessageType.TimeoutNow, from: this.id, to: m.from, term: this.term }));
    }
  }

  private handleHeartbeatResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    pr.probeSent = false;
    if (pr.state === ProgressState.Replicate && pr.inflights.full()) pr.inflights.freeFirst();
    if (pr.match < this.log.lastIndex()) this.sendAppend(m.from);
    if (m.context.length === 0) return;
    const acks = this.readOnly.ack(m.context, m.from);
    if (acks === undefined) return;
    let voterAcks = 0;
    for (const v of this.conf.voters) if (acks.has(v)) voterAcks++;
    if (voterAcks < majority(this.conf.voters.length)) return;
    for (const read of this.readOnly.release(m.context)) this.answerRead(read.from, read.index, read.context);
  }

  private leaderPropose(entries: readonly Entry[]): boolean {
    if (entries.length === 0) return false;
    if (!this.progress.has(this.id)) return false; // removed from the configuration
    if (this.transferee !== NO_MEMBER) return false;
    const accepted: Entry[] = [];
    for (const e of entries) {
      if (e.type === EntryType.ConfChange) {
        if (this.pendingConfIndex > this.log.applied) {
          // One change at a time: a second one becomes a no-op.
          accepted.push({ ...e, type: EntryType.Normal, data: EMPTY });
          continue;
        }
        this.pendingConfIndex = this.log.lastIndex() + accepted.length + 1;
      }
      accepted.push(e);
    }
    this.appendEntries(accepted);
    this.broadcastAppend();
    return true;
  }

  private proposeEntry(type: EntryType, data: Uint8Array): boolean {
    const entry: Entry = { index: 0, term: 0, type, data };
    if (this.role === Role.Leader) {
      if (type === EntryType.ConfChange && this.pendingConfIndex > this.log.applied) return false;
      return this.leaderPropose([entry]);
    }
    if (this.leader === NO_MEMBER || this.role !== Role.Follower) return false;
    this.send(message({ type: MessageType.Prop, from: this.id, to: this.leader, entries: [entry] }));
    return true;
  }

  private appendEntries(entries: readonly Entry[]): void {
    let index = this.log.lastIndex();
    const stamped = entries.map((e) => ({ ...e, index: ++index, term: this.term }));
    this.log.append(stamped);
    // The leader counts its own copy now: the driver makes it durable before it steps any
    // answer that could complete a quorum.
    this.progress.get(this.id)?.maybeUpdate(index);
    this.maybeCommit();
  }

  /** Advance commit to what a quorum has — only for an entry of the current term (§5.4.2). */
  private maybeCommit(): boolean {
    const index = committedIndex(this.conf.voters, (v) => this.progress.get(v)?.match ?? 0);
    if (index <= this.log.committed) return false;
    if (this.log.term(index) !== this.term && this.config.bugs?.commitPreviousTermByCount !== true) return false;
    this.log.commitTo(index);
    if (this.log.term(index) === this.term) this.releaseReadsBeforeCommit();
    return true;
  }

  private broadcastAppend(): void {
    for (const m of this.progress.keys()) if (m !== this.id) this.sendAppend(m);
  }

  /** Send what `to` is missing (or a snapshot); false when nothing could be sent. */
  private sendAppend(to: MemberId, sendIfEmpty = true): boolean {
    const pr = this.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    const entries = this.log.slice(pr.next, this.log.lastIndex() + 1, this.config.maxSizePerMsg);
    if (prevTerm === undefined || entries === undefined) return this.sendSnapshot(to, pr);
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.send(message({
      type: MessageType.App, from: this.id, to, term: this.term,
      index: prevIndex, logTerm: prevTerm, entries, commit: this.log.committed,
    }));
    const last = entries[entries.length - 1];
    if (pr.state === ProgressState.Replicate) {
      if (last !== undefined) {
        pr.next = last.index + 1;
        pr.inflights.add(last.index, entries.reduce((n, e) => n + e.data.length, 0));
      }
    } else if (pr.state === ProgressState.Probe) {
      pr.probeSent = true;
    }
    return true;
  }

  private sendSnapshot(to: MemberId, pr: Progress): boolean {
    const meta = this.snapshotMeta;
    if (meta === undefined) throw new RaftInvariantError(`follower ${to} needs entries compacted away, but there is no snapshot`);
    pr.becomeSnapshot(meta.index);
    this.send(message({ type: MessageType.Snap, from: this.id, to, term: this.term, snapshot: meta }));
    return true;
  }

  private broadcastHeartbeat(): void {
    const context = this.readOnly.lastContext() ?? EMPTY;
    for (const [m, pr] of this.progress) {
      if (m === this.id) continue;
      this.send(message({
        type: MessageType.Heartbeat, from: this.id, to: m, term: this.term,
        commit: Math.min(pr.match, this.log.committed), context,
      }));
    }
  }

  private leaderReadIndex(m: Message): void {
    if (this.config.bugs?.readWithoutReadIndex === true) {
      this.answerRead(m.from, this.log.committed, m.context);
      return;
    }
    if (this.log.term(this.log.committed) !== this.term) {
      // Until an entry of this term commits, our commit index may be behind the real one (§6.4).
      this.readsBeforeCommit.push(m);
      return;
    }
    if (this.conf.voters.length === 1 && this.conf.voters[0] === this.id) {
      // A single voter is its own quorum: leadership needs no confirmation.
      this.answerRead(m.from, this.log.committed, m.context);
      return;
    }
    this.readOnly.add(this.log.committed, m.context, m.from, this.id);
    this.broadcastHeartbeat();
  }

  private releaseReadsBeforeCommit(): void {
    if (this.readsBeforeCommit.length === 0) return;
    const queued = this.readsBeforeCommit.splice(0);
    for (const m of queued) this.leaderReadIndex(m);
  }

  private answerRead(to: MemberId, index: number, context: Uint8Array): void {
    if (to === this.id || to === NO_MEMBER) {
      this.readStates.push({ index, context });
    } else {
      this.send(message({ type: MessageType.ReadIndexResp, from: this.id, to, term: this.term, index, context }));
    }
  }

  private leaderTransfer(to: MemberId): void {
    if (to === this.id || !this.conf.voters.includes(to)) return;
    if (this.transferee === to) return;
    this.transferee = to;
    // The transfer must finish within an election timeout.
    this.electionElapsed = 0;
    const pr = this.progress.get(to)!;
    if (pr.match === this.log.lastIndex()) {
      this.send(message({ type: MessageType.TimeoutNow, from: this.id, to, term: this.term }));
    } else {
      this.sendAppend(to);
    }
  }

  private send(m: Message): void {
    // Requests and answers carry our term; a forwarded proposal or read is local to the leader.
    const keepsTerm = m.type === MessageType.Prop || m.type === MessageType.ReadIndex || m.type === MessageType.TransferLeader;
    this.outbox.push(m.term === 0 && !keepsTerm ? { ...m, term: this.term } : m);
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

export function createRaft(config: RaftConfig, initial: RaftInitialState): RaftCore {
  return new Raft(config, initial);
}
