import type { ResponseHeader } from './kv-types.js';

/*
 * etcd's Lease API as plain TypeScript values, after rpc.proto. Lease IDs are int64 (bigint);
 * TTLs are seconds (numbers: etcd's largest, 9,000,000,000, is exact).
 */

export interface LeaseGrantResponse {
  readonly header: ResponseHeader;
  readonly id: bigint;
  /** The TTL granted: the one asked for, raised to the cluster's minimum. */
  readonly ttl: number;
}

export interface LeaseRevokeResponse {
  readonly header: ResponseHeader;
}

export interface LeaseKeepAliveResponse {
  readonly header: ResponseHeader;
  readonly id: bigint;
  /** The TTL the lease was renewed to; 0 when the lease does not exist (expired or revoked), as etcd answers. */
  readonly ttl: number;
}

export interface LeaseTimeToLiveResponse {
  readonly header: ResponseHeader;
  readonly id: bigint;
  /** Seconds left; -1 when the lease does not exist, as etcd answers. */
  readonly ttl: number;
  readonly grantedTtl: number;
  /** The keys attached, in key order (empty unless asked for). */
  readonly keys: readonly Uint8Array[];
}

export interface LeaseLeasesResponse {
  readonly header: ResponseHeader;
  readonly leases: readonly bigint[];
}

/** etcd's largest TTL (lease.MaxLeaseTTL); a larger one is refused with "too large lease TTL". */
export const MAX_LEASE_TTL = 9_000_000_000;

/**
 * etcd's minimum TTL: (3 * electionTicks) / 2 heartbeats, rounded up to whole seconds, so a lease
 * outlives the election that follows a leader's death (`minTTL := time.Duration((3*cfg.ElectionTicks)/2) * heartbeat`).
 */
export function minLeaseTtl(electionTimeoutMs: number, heartbeatMs: number): number {
  const electionTicks = Math.floor(electionTimeoutMs / heartbeatMs);
  return Math.ceil((Math.floor((3 * electionTicks) / 2) * heartbeatMs) / 1000);
}
