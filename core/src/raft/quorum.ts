import type { MemberId } from '../protocol/raft-types.js';

/** Votes needed among `voters` for a majority. */
export function majority(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/**
 * The highest index that a majority of voters have: sort the voters' match indexes in
 * descending order and take the one at position majority-1.
 */
export function committedIndex(voters: readonly MemberId[], matchOf: (member: MemberId) => number): number {
  if (voters.length === 0) return 0;
  const matches = voters.map(matchOf).sort((a, b) => b - a);
  return matches[majority(voters.length) - 1]!;
}

export enum VoteResult {
  Pending,
  Won,
  Lost,
}

/** Tally of granted and rejected votes among `voters`. */
export function tallyVotes(voters: readonly MemberId[], votes: ReadonlyMap<MemberId, boolean>): VoteResult {
  let granted = 0;
  let rejected = 0;
  for (const v of voters) {
    const vote = votes.get(v);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  const need = majority(voters.length);
  if (granted >= need) return VoteResult.Won;
  if (voters.length - rejected < need) return VoteResult.Lost;
  return VoteResult.Pending;
}
