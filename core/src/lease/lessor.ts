import { inject, injectable } from 'inversify';
import { CLOCK, type Clock, type TimerHandle } from '../ports/clock.js';
import { LOGGER, type Logger } from '../ports/logger.js';
import { CONSENSUS } from '../raft/consensus.js';
import type { MemberId } from '../protocol/raft-types.js';
import { LeaseApplier, type LeaseApplyEvent } from './lease-applier.js';
import type { LeaseCheckpoint } from './lease-command.js';
import { LEASE_PROPOSER, type LeaseProposer } from './lease-proposer.js';
import { LeaseStore, type LeaseRecord } from './lease-store.js';
import { RenewalBatcher } from './renewal-batcher.js';

/** Leases one checkpoint entry names at most (etcd's maxLeaseCheckpointBatchSize). */
const CHECKPOINT_BATCH = 1000;
/** etcd 3.4's --experimental-lease-checkpoint-interval is 5 minutes; Cairn checkpoints by default, and sooner (see LessorOptions). */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 5_000;

/** What the lessor needs of the Raft node. */
export interface LessorRaft {
  readonly id: MemberId;
  currentLeader(): MemberId;
  onLeaderChange(listener: (leader: MemberId) => void): void;
  /** Resolves once this member applied everything committed before the call (a new leader: what earlier leaders committed). */
  readIndex(): Promise<number>;
}

export const LESSOR_OPTIONS = Symbol.for('cairn.value.LessorOptions');

export interface LessorOptions {
  /** A new leader gives no lease less than this (etcd's Promote(electionTimeout)): keep-alives lost in the election can be sent again. */
  readonly electionTimeoutMs: number;
  /** How often the leader looks for expired leases and due checkpoints (etcd: 500 ms). */
  readonly checkIntervalMs?: number;
  /** Expired leases revoked per check at most, so a mass expiry does not flood the log (etcd: 1000/s). */
  readonly maxRevokesPerCheck?: number;
  /** Replicate remaining TTLs (etcd's --experimental-enable-lease-checkpoint; on unless false). */
  readonly checkpointEnabled?: boolean;
  /**
   * How long after its grant, last renewal or last checkpoint the leader checkpoints a lease's
   * remaining TTL (etcd's --experimental-lease-checkpoint-interval). A lease kept alive more often
   * costs nothing; one left alone is checkpointed once per interval, and only before its first
   * checkpoint can a new leader give it more than it had left.
   */
  readonly checkpointIntervalMs?: number;
  /** Leases checkpointed per second at most; the rest wait for the next check (etcd: 1000/s). */
  readonly maxCheckpointsPerSecond?: number;
}

/**
 * The time half of the lessor, on one member. Only the leader's clock counts: it alone proposes
 * the revoke of an expired lease, through Raft, so expiry is an entry in the log like any write.
 *
 * Keep-alives: one the leader receives restarts its clock in memory, no Raft entry, as in etcd. One
 * a follower receives must reach the leader: RenewalBatcher gathers those arriving while the
 * previous batch is in flight, and the follower asks the leader to renew them outside the log
 * (leader-renewal.ts; etcd forwards them over HTTP), falling back to a `leaseRenew` Raft entry
 * when the leader does not answer.
 *
 * Checkpoints (etcd's lease checkpointing, on by default here): the leader replicates the remaining
 * TTL of a lease it has not renewed for a checkpoint interval, in batched `leaseCheckpoint` entries
 * every member keeps with the lease (so restarts and snapshots carry it). A renewal of a lease with
 * a checkpoint first clears it through the log (batched), then answers, so a renewed lease is never
 * cut short by a later leader. A member that becomes leader takes over once it applied everything
 * its predecessors committed (etcd promotes on the first entry of its term), and gives each lease
 * what its checkpoint left it, counted from when this member applied that checkpoint, never less
 * than an election timeout; a lease without one gets its whole TTL plus an election timeout, as
 * etcd gives every lease.
 *
 * On every member `expiry` is an estimate; on the leader it is the truth.
 */
@injectable()
export class Lessor {
  private readonly expiry = new Map<bigint, number>();
  /** Per lease with a checkpoint: the deadline it implies on this member's clock (when applied here + remaining). */
  private readonly checkpointDeadline = new Map<bigint, number>();
  private readonly revoking = new Set<bigint>();
  /** Leader: when each lease's next checkpoint is due, in due order (re-inserted at the end as times only grow). */
  private readonly due = new Map<bigint, number>();
  /** Leader: leases in checkpoint entries proposed and not settled yet. */
  private readonly checkpointsInFlight = new Map<bigint, number>();
  /** Leader: leases whose renewal waits for its clearing checkpoint. */
  private readonly clearing = new Set<bigint>();
  private readonly clears: RenewalBatcher;
  private primary = false;
  /** Counts leader changes, so a takeover started for one leadership does not complete in another. */
  private leadership = 0;
  private started = false;
  private timers: TimerHandle[] = [];
  private readonly checkIntervalMs: number;
  private readonly maxRevokes: number;
  private readonly checkpointing: boolean;
  private readonly checkpointIntervalMs: number;
  private readonly maxCheckpointsPerCheck: number;

  constructor(
    @inject(CONSENSUS) private readonly raft: LessorRaft,
    @inject(LeaseStore) private readonly leases: LeaseStore,
    @inject(LeaseApplier) applier: LeaseApplier,
    @inject(LEASE_PROPOSER) private readonly proposer: LeaseProposer,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(LESSOR_OPTIONS) private readonly options: LessorOptions,
  ) {
    this.checkIntervalMs = options.checkIntervalMs ?? 250;
    this.maxRevokes = options.maxRevokesPerCheck ?? 250;
    this.checkpointing = options.checkpointEnabled ?? true;
    this.checkpointIntervalMs = options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    this.maxCheckpointsPerCheck = Math.max(1, Math.ceil(((options.maxCheckpointsPerSecond ?? 10_000) * this.checkIntervalMs) / 1000));
    this.clears = new RenewalBatcher((ids) => this.clearThenRenew(ids), { defer: (run) => queueMicrotask(run) });
    this.reconcile();
    applier.onApplied((event) => this.applied(event));
    raft.onLeaderChange((leader) => this.leaderChanged(leader));
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    // Leases loaded after construction (the assembly loads the state before starting the lessor).
    this.reconcile();
    this.leaderChanged(this.raft.currentLeader());
    this.timers.push(
      this.clock.setInterval(() => {
        this.revokeExpired();
        this.checkpointDue();
      }, this.checkIntervalMs),
    );
  }

  stop(): void {
    this.started = false;
    this.leadership++;
    for (const t of this.timers.splice(0)) t.cancel();
  }

  /** True on the leader once it took over: its clock decides expiry and its renewals need no Raft entry. */
  get isPrimary(): boolean {
    return this.primary;
  }

  /**
   * Renew on the leader: the TTL renewed to, or undefined for a lease that is gone or expired
   * (awaiting its revoke). A lease with a checkpoint has it cleared through the log first.
   */
  async renew(id: bigint): Promise<number | undefined> {
    if (!this.renewable(id)) return undefined;
    if (!this.hasCheckpoint(id)) return this.refresh(id);
    this.clearing.add(id);
    try {
      const ttl = await this.clears.renew(id);
      return ttl > 0 ? ttl : undefined;
    } finally {
      this.clearing.delete(id);
      // A failed clear leaves the lease as it was: its checkpoints go on.
      if (!this.due.has(id)) this.schedule(id);
    }
  }

  /** Whole seconds left (truncated, as etcd reports them), or undefined for an unknown lease. */
  remainingSeconds(id: bigint): number | undefined {
    const lease = this.leases.get(id);
    if (lease === undefined) return undefined;
    const at = this.expiry.get(id) ?? this.clock.now() + lease.ttl * 1000;
    return Math.max(0, Math.trunc((at - this.clock.now()) / 1000));
  }

  private renewable(id: bigint): boolean {
    return this.primary && this.leases.exists(id) && !this.revoking.has(id) && (this.expiry.get(id) ?? 0) > this.clock.now();
  }

  /** A checkpoint is recorded for the lease, or one of ours is on its way: a renewal must clear it. */
  private hasCheckpoint(id: bigint): boolean {
    return this.checkpointsInFlight.has(id) || (this.leases.get(id)?.remainingMs ?? 0) > 0;
  }

  private refresh(id: bigint): number | undefined {
    const lease = this.leases.get(id);
    if (lease === undefined || !this.renewable(id)) return undefined;
    this.expiry.set(id, this.clock.now() + lease.ttl * 1000);
    this.schedule(id);
    return lease.ttl;
  }

  /** One clearing entry for a batch of renewals (etcd clears with a checkpoint of 0), then the renewals. */
  private async clearThenRenew(ids: readonly bigint[]): Promise<ReadonlyMap<bigint, number>> {
    await this.proposer.proposeLease({ op: 'leaseCheckpoint', checkpoints: ids.map((id) => ({ id, remainingMs: 0 })) });
    return new Map(ids.map((id) => [id, this.refresh(id) ?? 0]));
  }

  private applied(event: LeaseApplyEvent): void {
    const now = this.clock.now();
    switch (event.type) {
      case 'grant':
        this.expiry.set(event.record.id, now + event.record.ttl * 1000);
        this.schedule(event.record.id);
        break;
      case 'revoke':
        this.forget(event.id);
        break;
      case 'reload':
        this.reconcile();
        break;
      case 'renew':
        for (const id of event.ids) {
          this.checkpointDeadline.delete(id);
          // A renewal applied after the leader found the lease expired does not revive it.
          if (this.primary && this.revoking.has(id)) continue;
          this.expiry.set(id, now + (this.leases.get(id)?.ttl ?? 0) * 1000);
          this.schedule(id);
          // A checkpoint of ours proposed before this renewal applied may land after it: clear it again.
          if (this.primary && this.checkpointsInFlight.has(id)) void this.renew(id).catch(() => undefined);
        }
        break;
      case 'checkpoint':
        for (const { id, remainingMs } of event.checkpoints) {
          if (remainingMs > 0) this.checkpointDeadline.set(id, now + remainingMs);
          else this.checkpointDeadline.delete(id);
          // The leader's own checkpoints tell it nothing it did not know.
          if (!this.primary) this.expiry.set(id, remainingMs > 0 ? now + remainingMs : now + (this.leases.get(id)?.ttl ?? 0) * 1000);
        }
        break;
    }
  }

  private forget(id: bigint): void {
    this.expiry.delete(id);
    this.checkpointDeadline.delete(id);
    this.revoking.delete(id);
    this.due.delete(id);
  }

  private leaderChanged(leader: MemberId): void {
    this.leadership++;
    const leads = leader === this.raft.id;
    if (leads && this.primary) return;
    this.primary = false;
    this.revoking.clear();
    this.due.clear();
    // Every member's estimate becomes what a new leader will hold.
    this.restartClocks();
    if (leads && this.started) this.takeOver(this.leadership);
  }

  /**
   * Become primary once everything committed before this leadership is applied here (a read
   * barrier: it completes after this leader's first entry), so the clocks start from the latest
   * checkpoints and renewals; retried while this member still leads.
   */
  private takeOver(leadership: number): void {
    const current = (): boolean => leadership === this.leadership && this.raft.currentLeader() === this.raft.id;
    this.raft.readIndex().then(
      () => {
        if (!current()) return;
        this.primary = true;
        this.restartClocks();
        for (const lease of this.leases.all()) this.schedule(lease.id);
        this.logger.info({ leases: this.expiry.size }, 'lessor promoted: lease clocks restarted from their checkpoints');
      },
      () => {
        if (!current()) return;
        this.clock.setTimeout(() => {
          if (current()) this.takeOver(leadership);
        }, this.checkIntervalMs);
      },
    );
  }

  /** Each lease's deadline as a new leader sets it. */
  private restartClocks(): void {
    const now = this.clock.now();
    for (const lease of this.leases.all()) this.expiry.set(lease.id, this.deadlineAfterElection(lease, now));
  }

  private deadlineAfterElection(lease: LeaseRecord, now: number): number {
    const floor = now + this.options.electionTimeoutMs;
    if (!this.checkpointing) return floor + lease.ttl * 1000;
    const remaining = lease.remainingMs ?? 0;
    // No checkpoint: the lease may have been renewed just before the election, so etcd's rule: the
    // whole TTL, plus the election timeout for keep-alives that waited on the dead leader.
    if (remaining <= 0) return floor + lease.ttl * 1000;
    return Math.max(this.checkpointDeadline.get(lease.id) ?? now + remaining, floor);
  }

  private revokeExpired(): void {
    if (!this.primary) return;
    const now = this.clock.now();
    let proposed = 0;
    for (const [id, at] of this.expiry) {
      if (proposed >= this.maxRevokes) break;
      if (at > now || this.revoking.has(id)) continue;
      this.revoking.add(id);
      proposed++;
      // Settled either way: applied, the revoke event clears it; failed (leader lost), the next check retries.
      this.proposer.proposeLease({ op: 'leaseRevoke', id }).then(
        () => this.revoking.delete(id),
        (err: unknown) => {
          this.revoking.delete(id);
          this.logger.warn({ lease: id.toString(16), err: String(err) }, 'proposing the revoke of an expired lease failed');
        },
      );
    }
  }

  /**
   * A snapshot restore replaces the leases without grant or revoke events: state of leases it
   * removed goes; each remaining lease's clock restarts from its checkpoint (now + what it had
   * left) or, without one, its whole TTL.
   */
  private reconcile(): void {
    for (const id of [...this.expiry.keys()]) if (!this.leases.exists(id)) this.forget(id);
    const now = this.clock.now();
    for (const lease of this.leases.all()) {
      const remaining = lease.remainingMs ?? 0;
      if (remaining > 0) this.checkpointDeadline.set(lease.id, now + remaining);
      else this.checkpointDeadline.delete(lease.id);
      if (!this.primary || !this.expiry.has(lease.id)) this.expiry.set(lease.id, now + (remaining > 0 ? remaining : lease.ttl * 1000));
      if (this.primary && !this.due.has(lease.id)) this.schedule(lease.id);
    }
  }

  /** Leader: the lease's next checkpoint is one interval from now. */
  private schedule(id: bigint): void {
    if (!this.primary || !this.checkpointing) return;
    this.due.delete(id);
    this.due.set(id, this.clock.now() + this.checkpointIntervalMs);
  }

  /** Leader: checkpoint the leases that are due, in entries of at most CHECKPOINT_BATCH, at most maxCheckpointsPerCheck per check. */
  private checkpointDue(): void {
    if (!this.primary || !this.checkpointing) return;
    const now = this.clock.now();
    const batch: LeaseCheckpoint[] = [];
    for (const [id, at] of this.due) {
      if (at > now || batch.length >= this.maxCheckpointsPerCheck) break;
      this.due.delete(id);
      const lease = this.leases.get(id);
      const expiry = this.expiry.get(id);
      // A lease being renewed is rescheduled by its renewal; an expired one awaits its revoke.
      if (lease === undefined || expiry === undefined || this.clearing.has(id) || this.revoking.has(id) || expiry <= now) continue;
      this.schedule(id);
      const remainingMs = Math.ceil(expiry - now);
      // A lease with its whole TTL left needs no checkpoint (etcd skips these too).
      if (remainingMs >= lease.ttl * 1000) continue;
      batch.push({ id, remainingMs });
    }
    for (let i = 0; i < batch.length; i += CHECKPOINT_BATCH) this.proposeCheckpoints(batch.slice(i, i + CHECKPOINT_BATCH));
  }

  private proposeCheckpoints(checkpoints: readonly LeaseCheckpoint[]): void {
    for (const { id } of checkpoints) this.checkpointsInFlight.set(id, (this.checkpointsInFlight.get(id) ?? 0) + 1);
    const settle = (): void => {
      for (const { id } of checkpoints) {
        const left = (this.checkpointsInFlight.get(id) ?? 1) - 1;
        if (left > 0) this.checkpointsInFlight.set(id, left);
        else this.checkpointsInFlight.delete(id);
      }
    };
    this.proposer.proposeLease({ op: 'leaseCheckpoint', checkpoints }).then(settle, (err: unknown) => {
      settle();
      this.logger.warn({ leases: checkpoints.length, err: String(err) }, 'proposing a lease checkpoint failed');
    });
  }
}
