import type { ConfChange, MemberId, SnapshotMeta } from '../protocol/raft-types.js';

/**
 * The state as of one applied index, pinned when `StateMachine.snapshot()` returned: applies made
 * afterwards do not show in `data`.
 */
export interface StateMachineSnapshot {
  /** The applied index the data reflects. */
  readonly index: number;
  /** Term of the entry at `index`, when the state machine knows it (the driver knows it otherwise). */
  readonly term?: number;
  /** The state's bytes, in order; read at most once. */
  readonly data: AsyncIterable<Uint8Array>;
  /**
   * Let go of the pinned view (it may hold space). Idempotent; reading `data` to its end, or
   * stopping the read, does it too. A read still under way must then fail, never end early: a
   * receiver cannot tell a stream cut short from a complete one.
   */
  release(): void;
}

/**
 * What the node driver applies committed entries to (the MVCC store in a real member, a small
 * register in the simulator). Entries arrive in index order, each exactly once across restarts:
 * the state machine records the applied index atomically with the effects of each entry.
 *
 * The state machine is the durable state: the driver compacts the Raft log behind what `flush()`
 * made durable and never copies the state for that; it reads the whole state (`snapshot()`) only
 * to send it to a member that needs entries compacted away.
 */
export interface StateMachine {
  /**
   * Apply one committed Normal entry carrying the proposer's payload (`payload` is the entry's
   * data with the driver's envelope removed). The returned value is handed to the proposer's
   * waiting call, if the proposal came from this member.
   */
  apply(index: number, payload: Uint8Array): Promise<unknown>;
  /**
   * Record that `index` was applied without application data (a leader's no-op or a
   * configuration change), so the applied index keeps advancing.
   */
  skip(index: number): Promise<void>;
  /**
   * The highest index whose effects the state machine holds (0 when fresh). Undefined when a
   * `restore()` was cut short (a crash midway): the state is incomplete, and the driver restores
   * the latest stored snapshot again or refuses to start.
   */
  appliedIndex(): Promise<number | undefined>;
  /**
   * Optional: record an applied membership change (the cluster's member records) atomically with
   * `index`. Without it the driver calls `skip(index)` for membership changes.
   */
  applyConfChange?(index: number, change: ConfChange): Promise<void>;
  /**
   * Optional: the peer URLs of the members the state machine has recorded. The driver reads them
   * at start and after a restore, so members added at runtime stay reachable across restarts.
   */
  memberPeerUrls?(): ReadonlyMap<MemberId, readonly string[]>;
  /** Optional: whether `id` was removed from the cluster (such an ID never comes back; what it sends is refused). */
  wasRemoved?(id: MemberId): boolean;
  /** Make every applied effect durable. The driver calls it before it compacts the log behind the applied index. */
  flush(): Promise<void>;
  /**
   * Pin the current state and its applied index, synchronously, and stream it from there; applies
   * made while the stream is read do not show in it. The caller releases it.
   */
  snapshot(): StateMachineSnapshot;
  /**
   * Replace the whole state with a snapshot's data, durably; afterwards appliedIndex() = meta.index.
   * A crash midway leaves appliedIndex() undefined, never a half-restored state that looks whole.
   */
  restore(meta: SnapshotMeta, data: AsyncIterable<Uint8Array>): Promise<void>;
}

export const STATE_MACHINE = Symbol.for('cairn.port.StateMachine');
