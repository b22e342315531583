import { majority, tallyVotes, VoteResult } from './quorum.js';
import { RaftInvariantError } from './raft-log.js';
import { RaftReadIndex } from './raft-read-index.js';
import { EMPTY, message } from './raft-state.js';
import { EntryType, MessageType, NO_MEMBER, Role, type MemberId, type Message } from '../protocol/raft-types.js';

/** Context of a Vote sent because the leader asked for a transfer: it overrides leader leases. */
const TRANSFER_CONTEXT = new TextEncoder().encode('transfer');

const isTransferCampaign = (m: Message): boolean => m.context.length === TRANSFER_CONTEXT.length && m.context.every((b, i) => b === TRANSFER_CONTEXT[i]);

/**
 * The fourth layer of Raft (see raft.ts): elections with pre-vote, check-quorum and leader
 * leases, the term rules every message goes through, and leadership transfer.
 */
export abstract class RaftElections extends RaftReadIndex {
  protected tickElection(): void {
    this.electionElapsed++;
    if (this.promotable && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  protected tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.config.electionTick) {
      this.electionElapsed = 0;
      if (this.config.checkQuorum && !this.quorumActive() && this.config.bugs?.leaseReadWithoutCheckQuorum !== true) {
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
  protected quorumActive(): boolean {
    let active = 0;
    for (const v of this.conf.voters) {
      const pr = this.progress.get(v);
      if (v === this.id || pr?.recentActive === true) active++;
      if (pr !== undefined && v !== this.id) pr.recentActive = false;
    }
    for (const [m, pr] of this.progress) if (m !== this.id && !this.conf.voters.includes(m)) pr.recentActive = false;
    return active >= majority(this.conf.voters.length);
  }

  protected hup(transfer: boolean): void {
    if (this.role === Role.Leader || !this.promotable) return;
    // A configuration change committed but not applied may change who votes: wait for it.
    for (const e of this.log.slice(this.log.applied + 1, this.log.committed + 1) ?? []) {
      if (e.type === EntryType.ConfChange) return;
    }
    if (this.config.preVote && !transfer) this.runElection(true, false);
    else this.runElection(false, transfer);
  }

  protected runElection(pre: boolean, transfer: boolean): void {
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
      this.send(
        message({
          type: pre ? MessageType.PreVote : MessageType.Vote,
          from: this.id,
          to: v,
          term,
          index: this.log.lastIndex(),
          logTerm: this.log.lastTerm(),
          context: transfer ? TRANSFER_CONTEXT : EMPTY,
        }),
      );
    }
  }

  protected becomeLeader(): void {
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

  protected handleVoteRequest(m: Message): void {
    const pre = m.type === MessageType.PreVote;
    const canVote = this.vote === m.from || (this.vote === NO_MEMBER && this.leader === NO_MEMBER) || (pre && m.term > this.term);
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
  protected stepTerm(m: Message): boolean {
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

  protected stepCandidate(m: Message): void {
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

  protected leaderTransfer(to: MemberId): void {
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
}
