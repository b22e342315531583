import type { LeaseState, LostLeaseState } from './lease-state.js';

export interface LeaseKeeper {
  readonly id: bigint;
  readonly state: LeaseState;
  /** Resolves when the lease is lost (or the keeper closed); never rejects. */
  readonly lost: Promise<LostLeaseState>;
  /** Aborted when the lease is lost, with a SessionLostError as its reason. */
  readonly signal: AbortSignal;
  on(event: 'state', listener: (state: LeaseState) => void): this;
  /** Stops renewing; does not revoke. */
  close(): void;
}

export interface KeeperStart {
  /** The lease's TTL in seconds, if known (then `expiresAt` bounds the first claim). */
  readonly ttl?: number;
  /** When the server may expire the lease at the earliest, ms since the epoch (e.g. grant send time + ttl). */
  readonly expiresAt?: number;
}
