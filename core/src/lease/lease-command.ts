/** A lease's remaining TTL as the leader knew it when it proposed the checkpoint; 0 clears it (the lease is back at its whole TTL). */
export interface LeaseCheckpoint {
  readonly id: bigint;
  /** Milliseconds (etcd checkpoints whole seconds; milliseconds keep a new leader's deadline within its election timeout). */
  readonly remainingMs: number;
}

/** Lease changes that go through Raft and are applied on every member in log order. */
export type LeaseCommand =
  /** ID chosen and TTL raised to the minimum by the proposer, so every member applies the same grant. */
  | { readonly op: 'leaseGrant'; readonly id: bigint; readonly ttl: number }
  /** Asked by a client, or proposed by the leader when the lease expired. */
  | { readonly op: 'leaseRevoke'; readonly id: bigint }
  /** Keep-alives a follower received: applied, they restart the leader's clock for these leases and clear their checkpoints. */
  | { readonly op: 'leaseRenew'; readonly ids: readonly bigint[] }
  /**
   * Remaining TTLs the leader replicates (etcd's LeaseCheckpointRequest), kept with the lease in the
   * Backend, so a new leader or a restarted member does not give the lease its whole TTL again.
   */
  | { readonly op: 'leaseCheckpoint'; readonly checkpoints: readonly LeaseCheckpoint[] };

export const LEASE_OPS: ReadonlySet<string> = new Set(['leaseGrant', 'leaseRevoke', 'leaseRenew', 'leaseCheckpoint']);

export function isLeaseCommand(command: { readonly op: string }): command is LeaseCommand {
  return LEASE_OPS.has(command.op);
}

/**
 * The checkpoints of an applied `leaseCheckpoint` entry. Entries written before remaining TTLs were
 * replicated carry `ids` instead: the leases the leader had renewed, read as clears (whole TTL).
 */
export function checkpointsOf(command: Extract<LeaseCommand, { op: 'leaseCheckpoint' }>): readonly LeaseCheckpoint[] {
  if (Array.isArray(command.checkpoints)) return command.checkpoints;
  const renewed = (command as { readonly ids?: readonly bigint[] }).ids ?? [];
  return renewed.map((id) => ({ id, remainingMs: 0 }));
}
