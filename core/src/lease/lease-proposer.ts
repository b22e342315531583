import type { LeaseCommand } from './lease-command.js';

/**
 * Puts a lease command into the Raft log (the leader's revokes of expired leases, its
 * checkpoints). The apply layer implements it, since it owns the log's entry encoding.
 */
export interface LeaseProposer {
  proposeLease(command: LeaseCommand): Promise<unknown>;
}

export const LEASE_PROPOSER = Symbol.for('cairn.port.LeaseProposer');
