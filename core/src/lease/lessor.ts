import { inject, injectable } from 'inversify';
import { CLOCK, type Clock, type TimerHandle } from '../ports/clock.js';
import { LOGGER, type Logger } from '../ports/logger.js';
import { CONSENSUS } from '../raft/consensus.js';
import type { MemberId } from '../protocol/raft-types.js';
import { LeaseApplier, type LeaseApplyEvent } from './lease-applier.js';
import { LEASE_PROPOSER, type LeaseProposer } from './lease-proposer.js';
import { LeaseStore } from './lease-store.js';

/** Leases one checkpoint entry names at most. */
const CHECKPOINT_BATCH = 10_000;

/** What the lessor needs of the Raft node. */
export interface LessorRaft {
  readonly id: MemberId;
  currentLeader(): MemberId;
  onLeaderChange(listener: (leader: MemberId) => void): void;
}

export const LESSOR_OPTIONS = Symbol.for('cairn.value.LessorOptions');

export interface LessorOptions {
  /** A new leader gives every lease its full TTL plus this, as etcd's Promote(electionTimeout) does. */
  readonly electionTimeoutMs: number;
  /** How often the leader looks for expired leases (etcd: 500 ms). */
  readonly checkIntervalMs?: number;
  /** Expired leases revoked per check at most, so a mass expiry does not flood the log (etcd: 1000/s). */
  readonly maxRevokesPerCheck?: number;
  /** How often the leader replicates which leases it renewed itself (followers answer TimeToLive from it). */
  readonly checkpointIntervalMs?: number;
}

/**
 * The time half of the lessor, on one member. Only the leader's clock counts: it alone proposes
 * the revoke of an expired lease, through Raft, so expiry is an entry in the log like any write.
 *
 * Keep-alives: one the leader receives restarts its clock in memory, no Raft entry, as in etcd. One
 * a follower receives must reach the leader: RenewalBatcher gathers those arriving while the
 * previous batch is in flight, and the follower asks the leader to renew them outside the log
 * (leader-renewal.ts; etcd forwards them over HTTP), falling back to a `leaseRenew` Raft entry
 * when the leader does not answer. The leader, in turn,
 * replicates the IDs it renewed itself once per checkpoint interval (`leaseCheckpoint`, only when
 * there were any), so followers keep an estimate of each lease's expiry good to about that
 * interval, and answer TimeToLive without asking the leader.
 *
 * On every member `expiry` is that estimate; on the leader it is the truth. A member that becomes
 * leader restarts every clock at the full TTL plus an election timeout (etcd's Promote), so a
 * leader change extends leases instead of expiring them in a storm.
 */
@injectable()
export class Lessor {
  private readonly expiry = new Map<bigint, number>();
  private readonly revoking = new Set<bigint>();
  private renewedHere = new Set<bigint>();
  private primary = false;
  private timers: TimerHandle[] = [];
  private readonly checkIntervalMs: number;
  private readonly maxRevokes: number;
  private readonly checkpointIntervalMs: number;

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
    this.checkpointIntervalMs = options.checkpointIntervalMs ?? 1000;
    for (const lease of leases.all()) this.expiry.set(lease.id, clock.now() + lease.ttl * 1000 + options.electionTimeoutMs);
    applier.onApplied((event) => this.applied(event));
    raft.onLeaderChange((leader) => this.leaderChanged(leader));
  }

  start(): void {
    if (this.timers.length > 0) return;
    // Leases loaded after construction (the assembly loads the state before starting the lessor).
    for (const lease of this.leases.all())
      if (!this.expiry.has(lease.id)) this.expiry.set(lease.id, this.clock.now() + lease.ttl * 1000 + this.options.electionTimeoutMs);
    this.leaderChanged(this.raft.currentLeader());
    this.timers.push(this.clock.setInterval(() => this.revokeExpired(), this.checkIntervalMs));
    this.timers.push(this.clock.setInterval(() => this.checkpoint(), this.checkpointIntervalMs));
  }

  stop(): void {
    for (const t of this.timers.splice(0)) t.cancel();
  }

  /** True on the leader: its clock decides expiry and its renewals need no Raft entry. */
  get isPrimary(): boolean {
    return this.primary;
  }

  /** Renew on the leader: the TTL renewed to, or undefined for a lease that is gone or expired (awaiting its revoke). */
  renew(id: bigint): number | undefined {
    const lease = this.leases.get(id);
    if (lease === undefined || this.revoking.has(id) || (this.expiry.get(id) ?? 0) <= this.clock.now()) return undefined;
    this.expiry.set(id, this.clock.now() + lease.ttl * 1000);
    this.renewedHere.add(id);
    return lease.ttl;
  }

  /** Whole seconds left (truncated, as etcd reports them), or undefined for an unknown lease. */
  remainingSeconds(id: bigint): number | undefined {
    const lease = this.leases.get(id);
    if (lease === undefined) return undefined;
    const at = this.expiry.get(id) ?? this.clock.now() + lease.ttl * 1000;
    return Math.max(0, Math.trunc((at - this.clock.now()) / 1000));
  }

  private applied(event: LeaseApplyEvent): void {
    const now = this.clock.now();
    switch (event.type) {
      case 'grant':
        this.expiry.set(event.record.id, now + event.record.ttl * 1000);
        break;
      case 'revoke':
        this.expiry.delete(event.id);
        this.revoking.delete(event.id);
        this.renewedHere.delete(event.id);
        break;
      case 'reload':
        this.reconcile();
        break;
      case 'renew':
        // The leader's own checkpoint changes nothing on the leader: it renewed those already.
        if (this.primary && event.byLeader) break;
        for (const id of event.ids) {
          // A renewal applied after the leader found the lease expired does not revive it.
          if (this.primary && this.revoking.has(id)) continue;
          this.expiry.set(id, now + (this.leases.get(id)?.ttl ?? 0) * 1000);
        }
        break;
    }
  }

  private leaderChanged(leader: MemberId): void {
    const wasPrimary = this.primary;
    this.primary = leader === this.raft.id;
    this.revoking.clear();
    this.renewedHere.clear();
    if (this.primary && wasPrimary) return;
    // A new leader (this member or another) restarts every clock: the old leader's renewals are
    // not known here, so each lease gets its whole TTL again, plus the election's duration.
    const base = this.clock.now() + this.options.electionTimeoutMs;
    for (const lease of this.leases.all()) this.expiry.set(lease.id, base + lease.ttl * 1000);
    if (this.primary) this.logger.info({ leases: this.expiry.size }, 'lessor promoted: lease clocks restarted');
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
   * A snapshot restore replaces the leases without grant or revoke events: clocks of leases it
   * brought start now, at their full TTL; clocks of leases it removed go.
   */
  private reconcile(): void {
    for (const id of this.expiry.keys()) if (!this.leases.exists(id)) this.expiry.delete(id);
    const now = this.clock.now();
    for (const lease of this.leases.all()) if (!this.expiry.has(lease.id)) this.expiry.set(lease.id, now + lease.ttl * 1000);
  }

  private checkpoint(): void {
    if (!this.primary || this.renewedHere.size === 0) return;
    const ids = [...this.renewedHere];
    this.renewedHere = new Set();
    // Bounded entries (about 30 bytes a lease), however many leases are kept alive.
    for (let i = 0; i < ids.length; i += CHECKPOINT_BATCH) {
      this.proposer.proposeLease({ op: 'leaseCheckpoint', ids: ids.slice(i, i + CHECKPOINT_BATCH) }).catch(() => undefined);
    }
  }
}
