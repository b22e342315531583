import { inject, injectable } from 'inversify';
import type { GrantOutcome } from '../lease/lease-applier.js';
import type { LeaseCommand } from '../lease/lease-command.js';
import { LeaseIdGenerator } from '../lease/lease-id-generator.js';
import { LeaseStore } from '../lease/lease-store.js';
import {
  MAX_LEASE_TTL,
  minLeaseTtl,
  type LeaseGrantResponse,
  type LeaseKeepAliveResponse,
  type LeaseLeasesResponse,
  type LeaseRevokeResponse,
  type LeaseTimeToLiveResponse,
} from '../api/lease-types.js';
import { Lessor } from '../lease/lessor.js';
import {
  decodeRemaining,
  decodeRenewedTtls,
  encodeLeaseIds,
  LEASE_RENEW_REQUEST,
  LEASE_TTL_REQUEST,
  remainingOnLeader,
  renewOnLeader,
} from '../lease/leader-renewal.js';
import { RenewalBatcher } from '../lease/renewal-batcher.js';
import { encodeKvCommand } from '../apply/kv-command.js';
import { MvccStore, type ApplyOutcome } from '../mvcc/mvcc-store.js';
import { LeaderRequestError } from '../raft/leader-requests.js';
import { CONSENSUS, type Consensus } from '../raft/consensus.js';
import { RESPONSE_HEADERS, type ResponseHeaders } from '../api/response-headers.js';
import { MEMBER_SETTINGS, type MemberSettings } from '../ports/member-settings.js';
import { DEFERRAL, type Deferral } from '../ports/deferral.js';
import { EtcdErrors } from '../api/errors.js';
import { NO_MEMBER, type MemberId } from '../protocol/raft-types.js';
import type { ResponseHeader } from '../api/kv-types.js';
import { LeaderWait } from './leader-wait.js';
import type { LeaseService } from '../api/services.js';
import type { AuthInfo } from '../api/auth-types.js';

/** Leaders a follower's renewal batch is sent to before it waits for the log alone. */
const RENEWAL_ATTEMPTS = 3;

/**
 * etcd's Lease service on a member. Grants and revokes go through Raft; keep-alives are answered
 * by the leader's lessor at once, or, on a follower, asked of the leader in batches
 * (see Lessor for why). TimeToLive reads the lease after a ReadIndex, so a follower knows every
 * grant and revoke committed before the call, and the time left from the leader's lessor.
 */
@injectable()
export class RaftLeaseService implements LeaseService {
  private readonly renewals: RenewalBatcher;
  /** Renewal batches waiting for the next leader (see renewThroughLeader). */
  private readonly leaderListeners = new Set<(leader: MemberId) => void>();
  /** The cluster's minimum TTL in seconds (see minLeaseTtl). */
  private readonly minTtl: number;

  constructor(
    @inject(CONSENSUS) private readonly node: Consensus,
    @inject(LeaseStore) private readonly store: LeaseStore,
    @inject(Lessor) private readonly lessor: Lessor,
    @inject(LeaseIdGenerator) private readonly ids: LeaseIdGenerator,
    @inject(LeaderWait) private readonly leader: LeaderWait,
    @inject(MEMBER_SETTINGS) settings: Pick<MemberSettings, 'electionTimeoutMs' | 'heartbeatIntervalMs'>,
    @inject(MvccStore) private readonly mvcc: Pick<MvccStore, 'currentRevision'>,
    @inject(RESPONSE_HEADERS) private readonly headers: ResponseHeaders,
    @inject(DEFERRAL) deferral: Deferral,
  ) {
    this.minTtl = minLeaseTtl(settings.electionTimeoutMs, settings.heartbeatIntervalMs);
    this.renewals = new RenewalBatcher((renewed) => this.renewThroughLeader(renewed), deferral);
    node.serveLeaderRequests(LEASE_RENEW_REQUEST, (payload) => renewOnLeader(lessor, payload));
    node.onLeaderChange((leader) => {
      for (const listener of [...this.leaderListeners]) listener(leader);
    });
    node.serveLeaderRequests(LEASE_TTL_REQUEST, (payload) => remainingOnLeader(lessor, payload));
  }

  /**
   * A follower's batch of keep-alives: asked of the leader directly, as etcd forwards them over
   * its peer API (a renewal changes no replicated state, so it needs no quorum's fsync). If the
   * leader refuses or does not answer (it lost leadership, its lessor is not primary yet), the
   * batch goes through the log instead, which reaches whoever leads by the time it commits.
   */
  private async renewThroughLeader(ids: readonly bigint[]): Promise<ReadonlyMap<bigint, number>> {
    for (let attempt = 1; ; attempt++) {
      const asked = this.node.currentLeader();
      try {
        return decodeRenewedTtls(ids, await this.node.askLeader(LEASE_RENEW_REQUEST, encodeLeaseIds(ids)));
      } catch (err) {
        if (!(err instanceof LeaderRequestError)) throw err;
      }
      // A dead leader holds a proposal forwarded to it until the request times out, longer than a
      // lease may have: when another member is elected first, ask that one instead (etcd, too,
      // forwards a renewal again to the leader it finds).
      const elected = this.nextLeader(asked);
      const logged = this.propose<ReadonlyMap<bigint, number>>({ op: 'leaseRenew', ids });
      const first = await Promise.race([logged.then((ttls) => ({ ttls })), elected.promise.then(() => undefined)]).finally(elected.cancel);
      if (first !== undefined || attempt >= RENEWAL_ATTEMPTS) return first?.ttls ?? logged;
      // Applied later or not at all: a renewal again changes nothing.
      logged.catch(() => undefined);
    }
  }

  /** Resolves when a member other than `asked` (and this one) becomes the leader this member knows. */
  private nextLeader(asked: MemberId): { promise: Promise<void>; cancel: () => void } {
    let wake: (() => void) | undefined;
    const promise = new Promise<void>((resolve) => (wake = resolve));
    const listener = (leader: MemberId): void => {
      if (leader !== asked && leader !== NO_MEMBER && leader !== this.node.id) wake?.();
    };
    this.leaderListeners.add(listener);
    return { promise, cancel: () => this.leaderListeners.delete(listener) };
  }

  async grant(ttl: number, id: bigint): Promise<LeaseGrantResponse> {
    this.refuseLearner();
    if (ttl > MAX_LEASE_TTL) throw EtcdErrors.leaseTtlTooLarge();
    // Chosen here, before proposing, so every member applies the same ID.
    const chosen = id === 0n ? this.ids.generate() : id;
    const granted = await this.propose<GrantOutcome>({ op: 'leaseGrant', id: chosen, ttl: Math.max(ttl, this.minTtl) });
    return { header: granted.header, id: granted.id, ttl: granted.ttl };
  }

  /** `caller` (auth enabled only): checked when applied for write on every attached key. */
  async revoke(id: bigint, caller?: AuthInfo): Promise<LeaseRevokeResponse> {
    this.refuseLearner();
    const revoked = await this.propose<{ header: ResponseHeader }>({ op: 'leaseRevoke', id, caller });
    return { header: revoked.header };
  }

  async keepAlive(id: bigint): Promise<LeaseKeepAliveResponse> {
    this.refuseLearner();
    await this.leader.known();
    const ttl = this.lessor.isPrimary ? ((await this.lessor.renew(id)) ?? 0) : await this.renewals.renew(id);
    return { header: this.headers.header(this.mvcc.currentRevision), id, ttl };
  }

  async timeToLive(id: bigint, keys: boolean): Promise<LeaseTimeToLiveResponse> {
    this.refuseLearner();
    await this.leader.known();
    await this.node.readIndex();
    const lease = this.store.get(id);
    const header = this.headers.header(this.mvcc.currentRevision);
    if (lease === undefined) return { header, id, ttl: -1, grantedTtl: 0, keys: [] };
    const ttl = await this.timeLeft(id);
    // The lease may have been revoked while the leader was asked.
    if (ttl === undefined || !this.store.exists(id)) return { header, id, ttl: -1, grantedTtl: 0, keys: [] };
    return { header, id, ttl, grantedTtl: lease.ttl, keys: keys ? this.store.keys(id) : [] };
  }

  /**
   * What the lease has left on the leader's clock, the one that decides its expiry (etcd 3.6 asks
   * the leader too). When the leader cannot answer (an election, its lessor not promoted yet), this
   * member's estimate, which follows the leader's checkpoints.
   */
  private async timeLeft(id: bigint): Promise<number | undefined> {
    if (!this.lessor.isPrimary) {
      try {
        const remaining = decodeRemaining(await this.node.askLeader(LEASE_TTL_REQUEST, encodeLeaseIds([id])));
        return remaining < 0 ? undefined : remaining;
      } catch (err) {
        if (!(err instanceof LeaderRequestError)) throw err;
      }
    }
    return this.lessor.remainingSeconds(id);
  }

  async leases(): Promise<LeaseLeasesResponse> {
    this.refuseLearner();
    const ids = this.store
      .all()
      .map((l) => l.id)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return { header: this.headers.header(this.mvcc.currentRevision), leases: ids };
  }

  private refuseLearner(): void {
    // etcd 3.4 serves a learner nothing but status and serializable reads.
    if (this.node.membership().learners.includes(this.node.id)) throw EtcdErrors.notSupportedForLearner();
  }

  private async propose<T>(command: LeaseCommand & { readonly caller?: AuthInfo }): Promise<T> {
    await this.leader.known();
    const outcome = (await this.node.propose(encodeKvCommand(command))) as ApplyOutcome<T>;
    if ('error' in outcome) throw outcome.error;
    return outcome.ok;
  }
}
