/** What a lease keeper knows about its lease. */
export type LeaseState =
  | {
      kind: 'alive';
      /** The TTL (seconds) the server granted at the last renewal. */
      ttl: number;
      /** Conservative expiry, ms since the epoch: send time of the last acknowledged renewal + ttl. */
      expiresAt: number;
    }
  | { kind: 'lost'; reason: LeaseLostReason; error?: Error };

/**
 * - `expired`: no renewal was acknowledged before `expiresAt` (member paused, partitioned or down):
 *   the server may have expired the lease.
 * - `revoked`: this client revoked it.
 * - `not-found`: the server answered that the lease does not exist (expired or revoked elsewhere).
 * - `closed`: the application stopped the keeper (the lease may live on until its TTL).
 */
export type LeaseLostReason = 'expired' | 'revoked' | 'not-found' | 'closed';

export type LostLeaseState = LeaseState & { kind: 'lost' };
