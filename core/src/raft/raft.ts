import type { RaftConfig, RaftCore, RaftInitialState, RaftStatus } from './core-api.js';
import { applyConfChangeTo, encodeConfChange } from './conf-change.js';
import { ProgressState } from './progress.js';
import { RaftInvariantError } from './raft-log.js';
import { RaftElections } from './raft-elections.js';
import { message } from './raft-state.js';
import {
  EntryType,
  MessageType,
  NO_MEMBER,
  Role,
  type ConfChange,
  type ConfState,
  type HardState,
  type MemberId,
  type Message,
  type Ready,
  type SnapshotMeta,
  type SoftState,
} from '../protocol/raft-types.js';

/** Messages a leader may send while its own disk write is in flight (Raft thesis §10.2.1). */
const sendableBeforePersist = (m: Message): boolean => m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap;

/**
 * The Raft consensus algorithm as a pure, synchronous state machine (Ongaro & Ousterhout, and
 * the thesis' pre-vote, check-quorum, leadership transfer and ReadIndex). It owns no I/O: see
 * RaftCore and Ready for how a driver runs it.
 *
 * Built in layers, one responsibility each, every one a base of the next: raft-state.ts (term,
 * role, log, outbox, transitions), raft-replication.ts (appends and commit), raft-read-index.ts
 * (ReadIndex), raft-elections.ts (votes, term rules, leadership transfer), and this file: the
 * RaftCore interface and the dispatch of each message by role.
 */
export class Raft extends RaftElections implements RaftCore {
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
    return (
      this.outbox.length > 0 ||
      this.readStates.length > 0 ||
      this.pendingSnapshot !== undefined ||
      this.log.stabled < this.log.lastIndex() ||
      this.log.committed > this.log.applied ||
      !sameHardState(this.hardState(), this.lastHardState) ||
      this.lastSoftState.leader !== this.leader ||
      this.lastSoftState.role !== this.role
    );
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
      id: this.id,
      term: this.term,
      vote: this.vote,
      role: this.role,
      leader: this.leader,
      commit: this.log.committed,
      applied: this.log.applied,
      firstIndex: this.log.firstIndex(),
      lastIndex: this.log.lastIndex(),
      confState: this.conf,
      match,
      transferee: this.transferee,
    };
  }

  // ---- dispatch by role ----

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

  private stepLeader(m: Message): void {
    switch (m.type) {
      case MessageType.Beat:
        this.broadcastHeartbeat();
        return;
      case MessageType.CheckQuorum:
        if (!this.quorumActive() && this.config.bugs?.leaseReadWithoutCheckQuorum !== true) this.becomeFollower(this.term, NO_MEMBER);
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
        this.confirmReads(m);
        return;
      case MessageType.SnapStatus:
        this.handleSnapStatus(m, pr);
        return;
      case MessageType.Unreachable:
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        return;
      default:
        return;
    }
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

export function createRaft(config: RaftConfig, initial: RaftInitialState): RaftCore {
  return new Raft(config, initial);
}
