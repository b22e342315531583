import type { StableState } from '../protocol/stable-state.js';
import type { Lifecycle } from './lifecycle.js';

export type { StableState };

/** Term, vote, commit, membership and identity: durable and atomic (a crash leaves the old or the new value, never a mix). */
export interface StableStore extends Lifecycle {
  /** The last saved state, or undefined on a fresh store. */
  load(): Promise<StableState | undefined>;
  /** Replace the state; resolves when durable. */
  save(state: StableState): Promise<void>;
}

export const STABLE_STORE = Symbol.for('cairn.port.StableStore');
