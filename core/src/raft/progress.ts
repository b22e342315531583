import { Inflights } from './inflights.js';

export enum ProgressState {
  /** Unsure where the follower's log ends: one append at a time, each waiting for its answer. */
  Probe = 'probe',
  /** The follower is in step: appends are pipelined, bounded by the inflight window. */
  Replicate = 'replicate',
  /** A snapshot is on its way; nothing else is sent until it is reported. */
  Snapshot = 'snapshot',
}

/** The leader's view of one follower's log. */
export class Progress {
  match = 0;
  next: number;
  state = ProgressState.Probe;
  /** Probe: an append was sent and is unanswered. */
  probeSent = false;
  /** Snapshot: the index of the snapshot in flight. */
  pendingSnapshot = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  readonly inflights: Inflights;

  constructor(next: number, maxInflightMsgs: number, maxInflightBytes: number) {
    this.next = next;
    this.inflights = new Inflights(maxInflightMsgs, maxInflightBytes);
  }

  private resetState(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot, the follower has at least the snapshot: start right after it.
    if (this.state === ProgressState.Snapshot) {
      const pending = this.pendingSnapshot;
      this.resetState(ProgressState.Probe);
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState(ProgressState.Probe);
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(index: number): void {
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = index;
  }

  /** An accepted append up to `index`; false when it tells nothing new (a stale answer). */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * A rejected append at `rejected`; the follower's log ends at `hint`. Moves `next` back, and
   * returns false when the rejection is stale (answers an append sent before a later one).
   */
  maybeDecreaseTo(rejected: number, hint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, hint + 1), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }

  /** Nothing may be sent now. */
  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.probeSent;
      case ProgressState.Replicate:
        return this.inflights.full();
      case ProgressState.Snapshot:
        return true;
    }
  }
}
