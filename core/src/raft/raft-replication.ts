import { ProgressState, type Progress } from './progress.js';
import { committedIndex } from './quorum.js';
import { RaftInvariantError } from './raft-log.js';
import { EMPTY, message, RaftState } from './raft-state.js';
import { EntryType, MessageType, NO_MEMBER, Role, type Entry, type MemberId, type Message } from '../protocol/raft-types.js';

/**
 * The second layer of Raft (see raft.ts): log replication and commit. A follower takes appends,
 * heartbeats and snapshots; a leader proposes, sends each follower what it lacks (pipelined and
 * bounded by its Progress), and commits what a quorum holds.
 */
export abstract class RaftReplication extends RaftState {
  /** An entry of the current term committed: reads that waited for one may proceed (raft-read-index.ts). */
  protected abstract releaseReadsBeforeCommit(): void;

  // ---- follower side ----

  protected handleAppend(m: Message): void {
    if (m.index < this.log.committed) {
      this.send(message({ type: MessageType.AppResp, from: this.id, to: m.from, term: this.term, index: this.log.committed }));
      return;
    }
    const last = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (last !== undefined) {
      this.send(message({ type: MessageType.AppResp, from: this.id, to: m.from, term: this.term, index: last }));
    } else {
      this.send(
        message({
          type: MessageType.AppResp,
          from: this.id,
          to: m.from,
          term: this.term,
          index: m.index,
          reject: true,
          rejectHint: this.log.lastIndex(),
        }),
      );
    }
  }

  protected handleHeartbeat(m: Message): void {
    // The leader sends min(its commit, our match): safe to take as is, bounded by what we have.
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send(message({ type: MessageType.HeartbeatResp, from: this.id, to: m.from, term: this.term, context: m.context }));
  }

  protected handleSnapshot(m: Message): void {
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

  // ---- leader side ----

  protected handleAppendResponse(m: Message, pr: Progress): void {
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

  protected handleHeartbeatResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    pr.probeSent = false;
    if (pr.state === ProgressState.Replicate && pr.inflights.full()) pr.inflights.freeFirst();
    if (pr.match < this.log.lastIndex()) this.sendAppend(m.from);
  }

  protected handleSnapStatus(m: Message, pr: Progress): void {
    if (pr.state !== ProgressState.Snapshot) return;
    // The driver streams the state as of its applied index, at or past the point we named:
    // probe after what the follower now holds, not after what we asked for.
    if (m.reject) pr.pendingSnapshot = 0;
    else pr.pendingSnapshot = Math.max(pr.pendingSnapshot, m.index);
    pr.becomeProbe();
    // Wait for the follower's answer (or the next heartbeat) before probing again.
    pr.probeSent = true;
  }

  protected leaderPropose(entries: readonly Entry[]): boolean {
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

  protected proposeEntry(type: EntryType, data: Uint8Array): boolean {
    const entry: Entry = { index: 0, term: 0, type, data };
    if (this.role === Role.Leader) {
      if (type === EntryType.ConfChange && this.pendingConfIndex > this.log.applied) return false;
      return this.leaderPropose([entry]);
    }
    if (this.leader === NO_MEMBER || this.role !== Role.Follower) return false;
    this.send(message({ type: MessageType.Prop, from: this.id, to: this.leader, entries: [entry] }));
    return true;
  }

  protected appendEntries(entries: readonly Entry[]): void {
    let index = this.log.lastIndex();
    const stamped = entries.map((e) => ({ ...e, index: ++index, term: this.term }));
    this.log.append(stamped);
    // The leader counts its own copy now: the driver makes it durable before it steps any
    // answer that could complete a quorum.
    this.progress.get(this.id)?.maybeUpdate(index);
    this.maybeCommit();
  }

  /** Advance commit to what a quorum has — only for an entry of the current term (§5.4.2). */
  protected maybeCommit(): boolean {
    const index = committedIndex(this.conf.voters, (v) => this.progress.get(v)?.match ?? 0);
    if (index <= this.log.committed) return false;
    if (this.log.term(index) !== this.term && this.config.bugs?.commitPreviousTermByCount !== true) return false;
    this.log.commitTo(index);
    if (this.log.term(index) === this.term) this.releaseReadsBeforeCommit();
    return true;
  }

  protected broadcastAppend(): void {
    for (const m of this.progress.keys()) if (m !== this.id) this.sendAppend(m);
  }

  /** Send what `to` is missing (or a snapshot); false when nothing could be sent. */
  protected sendAppend(to: MemberId, sendIfEmpty = true): boolean {
    const pr = this.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    const entries = this.log.slice(pr.next, this.log.lastIndex() + 1, this.config.maxSizePerMsg);
    if (prevTerm === undefined || entries === undefined) return this.sendSnapshot(to, pr);
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.send(
      message({
        type: MessageType.App,
        from: this.id,
        to,
        term: this.term,
        index: prevIndex,
        logTerm: prevTerm,
        entries,
        commit: this.log.committed,
      }),
    );
    const last = entries[entries.length - 1];
    if (pr.state === ProgressState.Replicate) {
      if (last !== undefined) {
        pr.next = last.index + 1;
        pr.inflights.add(
          last.index,
          entries.reduce((n, e) => n + e.data.length, 0),
        );
      }
    } else if (pr.state === ProgressState.Probe) {
      pr.probeSent = true;
    }
    return true;
  }

  protected sendSnapshot(to: MemberId, pr: Progress): boolean {
    const meta = this.snapshotMeta;
    if (meta === undefined) throw new RaftInvariantError(`follower ${to} needs entries compacted away, but there is no snapshot`);
    pr.becomeSnapshot(meta.index);
    this.send(message({ type: MessageType.Snap, from: this.id, to, term: this.term, snapshot: meta }));
    return true;
  }

  protected broadcastHeartbeat(): void {
    const context = this.readOnly.lastContext() ?? EMPTY;
    for (const [m, pr] of this.progress) {
      if (m === this.id) continue;
      this.send(
        message({
          type: MessageType.Heartbeat,
          from: this.id,
          to: m,
          term: this.term,
          commit: this.config.bugs?.heartbeatCommitBeyondMatch === true ? this.log.committed : Math.min(pr.match, this.log.committed),
          context,
        }),
      );
    }
  }
}
