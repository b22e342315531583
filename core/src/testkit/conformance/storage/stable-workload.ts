import type { StableState } from '../../../ports/stable-store.js';

const hex16 = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');

/**
 * The `k`-th state a workload saves (k >= 1). Every field changes with k, the membership changes
 * size, and the vote is a member ID that carries the seed and k (16 hex digits, like every member
 * ID), so a save can be recognised in a syscall trace.
 */
export function stableStateNumber(seed: number, k: number): StableState {
  const voters = Array.from({ length: 1 + (k % 5) }, (_, i) => hex16(0xa000 + i) + hex16(k));
  return {
    hardState: { term: k, vote: stableStateTag(seed, k), commit: k * 3 },
    confState: { voters, learners: k % 3 === 0 ? [] : [hex16(0xb000) + hex16(k)] },
    clusterId: hex16(seed) + hex16(0xc1),
    memberId: voters[0]!,
  };
}

/** The vote of state `k`: 16 hex digits, unique per seed and k. */
export function stableStateTag(seed: number, k: number): string {
  return hex16(seed ^ 0x5eed0000) + hex16(k);
}
