import type { ConfState, HardState } from '../raft/types.js';
import type { Lifecycle } from './lifecycle.js';

/** The small state a member must never forget. */
export interface StableState {
  readonly hardState: HardState;
  readonly confState: ConfState;
  /** Identity written at bootstrap, checked at every start (hex uint64 strings). */
  readonly clusterId: string;
  readonly memberId: string;
}

/** Term, vote, commit, membership and identity: durable and atomic (a crash leaves the old or the new value, never a mix). */
export interface StableStore extends Lifecycle {
  /** The last saved state, or undefined on a fresh store. */
  load(): Promise<StableState | undefined>;
  /** Replace the state; resolves when durable. */
  save(state: StableState): Promise<void>;
}

export const STABLE_STORE = Symbol.for('cairn.port.StableStore');
