import { EtcdErrors } from '../api/errors.js';
import type { Clock } from '../ports/clock.js';
import { NO_MEMBER, type ConfChange, type ConfState, type MemberId } from '../protocol/raft-types.js';
import { PendingCalls } from './pending-calls.js';

/** Errors of calls that never reached the Raft log, so they certainly had no effect. */
const notSubmitted = new WeakSet<Error>();

/** True when `error` came from a call that was refused before it reached Raft (it had no effect). */
export function wasNotSubmitted(error: unknown): boolean {
  return error instanceof Error && notSubmitted.has(error);
}

/** Mark `error` as the failure of a call refused before it reached Raft. */
export function notSubmittedError(error: Error): Error {
  notSubmitted.add(error);
  return error;
}

const sameConfChange = (a: ConfChange, b: ConfChange): boolean => a.type === b.type && a.memberId === b.memberId;

/**
 * What the callers of a RaftNode wait for, one PendingCalls per kind: proposals until applied
 * here, reads until applied up to their read index, membership changes until applied here, and
 * leadership transfers until the transferee leads. Not done in time, they fail with etcd's errors.
 */
export class WaitingCalls {
  /** By the sequence in the proposal's envelope. */
  readonly proposals: PendingCalls<number, unknown>;
  /** By the context the read index was asked with. */
  readonly reads: PendingCalls<string, number>;
  readonly confChanges: PendingCalls<number, ConfState, ConfChange>;
  /** Each with the member leadership goes to. */
  readonly transfers: PendingCalls<number, void, MemberId>;
  /** Read indexes Raft answered, waiting for applied ≥ index. */
  private readonly readsAwaitingApply: { index: number; key: string }[] = [];
  private lastKey = 0;

  constructor(
    clock: Clock,
    private readonly timeoutMs: number,
    private readonly leader: () => MemberId,
  ) {
    this.proposals = new PendingCalls(clock);
    this.reads = new PendingCalls(clock);
    this.confChanges = new PendingCalls(clock);
    this.transfers = new PendingCalls(clock);
  }

  /** A key for a membership change or a transfer. */
  nextKey(): number {
    return ++this.lastKey;
  }

  proposal(sequence: number): Promise<unknown> {
    return this.proposals.wait(sequence, undefined, this.timeoutMs, () => this.expired());
  }

  read(key: string): Promise<number> {
    return this.reads.wait(key, undefined, this.timeoutMs, () => this.expired());
  }

  confChange(key: number, change: ConfChange): Promise<ConfState> {
    return this.confChanges.wait(key, change, this.timeoutMs, () => this.expired());
  }

  transfer(key: number, to: MemberId): Promise<void> {
    return this.transfers.wait(key, to, this.timeoutMs, () => EtcdErrors.timeout());
  }

  /** Fail call `key` of `calls`, if it still waits, as refused before it reached Raft. */
  refuse<K, T, D>(calls: PendingCalls<K, T, D>, key: K, error: () => Error): void {
    if (!calls.has(key)) return;
    calls.reject(key, notSubmittedError(error()));
  }

  /** Raft answered read `key` with `index`: it completes once that index is applied. */
  readIndexed(index: number, key: string): void {
    if (this.reads.has(key)) this.readsAwaitingApply.push({ index, key });
  }

  settleReads(applied: number): void {
    for (let i = 0; i < this.readsAwaitingApply.length;) {
      const r = this.readsAwaitingApply[i]!;
      if (r.index <= applied) {
        this.readsAwaitingApply.splice(i, 1);
        this.reads.resolve(r.key, r.index);
      } else {
        i++;
      }
    }
  }

  /** `change` is applied here, giving `conf`: the first call that proposed it is done. */
  confChangeApplied(change: ConfChange, conf: ConfState): void {
    const [key] = this.confChanges.keysWhere((c) => sameConfChange(c, change));
    if (key !== undefined) this.confChanges.resolve(key, conf);
  }

  /** `leader` now leads: transfers to it are done. */
  leaderIs(leader: MemberId): void {
    for (const key of this.transfers.keysWhere((to) => to === leader)) this.transfers.resolve(key, undefined);
  }

  rejectAll(error: () => Error): void {
    this.readsAwaitingApply.length = 0;
    this.proposals.rejectAll(error);
    this.reads.rejectAll(error);
    this.confChanges.rejectAll(error);
    this.transfers.rejectAll(error);
  }

  private expired(): Error {
    return this.leader() === NO_MEMBER ? EtcdErrors.noLeader() : EtcdErrors.timeout();
  }
}
