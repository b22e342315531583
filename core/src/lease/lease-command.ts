/** Lease changes that go through Raft and are applied on every member in log order. */
export type LeaseCommand =
  /** ID chosen and TTL raised to the minimum by the proposer, so every member applies the same grant. */
  | { readonly op: 'leaseGrant'; readonly id: bigint; readonly ttl: number }
  /** Asked by a client, or proposed by the leader when the lease expired. */
  | { readonly op: 'leaseRevoke'; readonly id: bigint }
  /** Keep-alives a follower received: applied, they restart the leader's clock for these leases. */
  | { readonly op: 'leaseRenew'; readonly ids: readonly bigint[] }
  /** The leases the leader renewed itself lately, so followers can tell how long they have left. */
  | { readonly op: 'leaseCheckpoint'; readonly ids: readonly bigint[] };

export const LEASE_OPS: ReadonlySet<string> = new Set(['leaseGrant', 'leaseRevoke', 'leaseRenew', 'leaseCheckpoint']);

export function isLeaseCommand(command: { readonly op: string }): command is LeaseCommand {
  return LEASE_OPS.has(command.op);
}
