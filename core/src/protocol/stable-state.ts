import type { ConfState, HardState } from './raft-types.js';

/** The small state a member must never forget. */
export interface StableState {
  readonly hardState: HardState;
  readonly confState: ConfState;
  /** Identity written at bootstrap, checked at every start (hex uint64 strings). */
  readonly clusterId: string;
  readonly memberId: string;
}
