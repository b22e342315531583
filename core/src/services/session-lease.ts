import type { LeaseService } from '../api/services.js';

/** etcd's concurrency sessions default to this TTL (seconds) when no lease is given. */
const DEFAULT_SESSION_TTL = 60;

/**
 * The lease a lock or campaign is held under: the caller's, or (lease 0) a fresh one of 60 s that
 * nobody keeps alive, as etcd's Lock and Election servers do with an orphaned session.
 */
export async function sessionLease(lease: bigint, leases: LeaseService | undefined): Promise<bigint> {
  if (lease !== 0n) return lease;
  if (leases === undefined) return 0n;
  return (await leases.grant(DEFAULT_SESSION_TTL, 0n)).id;
}

/** The owner key of `lease` under `prefix`: the lease ID in lowercase hex, as etcd's recipes name it. */
export function ownerSuffix(lease: bigint): string {
  return lease.toString(16);
}
