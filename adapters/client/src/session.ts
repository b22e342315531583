import type { CallOptions } from './call-options.js';
import type { Client } from './client.js';
import { LeaseNotFoundError } from './errors.js';
import type { LeaseClient } from './lease/lease-client.js';
import type { LeaseKeeper } from './lease/lease-keeper.js';
import type { LeaseState, LostLeaseState } from './lease/lease-state.js';

export interface SessionOptions extends CallOptions {
  /** Lease TTL in seconds (default 60). */
  ttl?: number;
  /** Reuse this lease instead of granting one. */
  lease?: bigint;
}

/**
 * A lease kept alive for as long as the session lives (clientv3's concurrency.Session): recipes
 * put their keys under it, so they vanish when the holder dies. `signal` aborts and `lost`
 * resolves when the lease is lost or the session is closed.
 */
export class Session {
  private constructor(
    readonly client: Client,
    readonly lease: bigint,
    readonly ttl: number,
    private readonly leases: LeaseClient,
    private readonly keeper: LeaseKeeper,
  ) {}

  /** Use `client.session(options)`. */
  static async create(client: Client, leases: LeaseClient, options: SessionOptions = {}): Promise<Session> {
    if (options.lease !== undefined) {
      const start = await leases.startOf(options.lease, options);
      return new Session(client, options.lease, start.ttl, leases, leases.keepAlive(options.lease, start));
    }
    const grant = await leases.grant(options.ttl ?? 60, options);
    const keeper = leases.keepAlive(grant.id, { ttl: grant.ttl, expiresAt: grant.sentAt + grant.ttl * 1000 });
    return new Session(client, grant.id, grant.ttl, leases, keeper);
  }

  get state(): LeaseState {
    return this.keeper.state;
  }

  get lost(): Promise<LostLeaseState> {
    return this.keeper.lost;
  }

  /** Aborted when the session is lost or closed. */
  get signal(): AbortSignal {
    return this.keeper.signal;
  }

  /** Stops the keep-alive and revokes the lease (its keys go at once). */
  async close(options: CallOptions = {}): Promise<void> {
    this.keeper.close();
    try {
      await this.leases.revoke(this.lease, options);
    } catch (err) {
      if (!(err instanceof LeaseNotFoundError)) throw err;
    }
  }

  /** Stops the keep-alive without revoking: the lease (and its keys) live until the TTL runs out. */
  orphan(): void {
    this.keeper.close();
  }
}
