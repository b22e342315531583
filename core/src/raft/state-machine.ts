import type { SnapshotMeta } from './types.js';

/**
 * What the node driver applies committed entries to (the MVCC store in a real member, a small
 * register in the simulator). Entries arrive in index order, each exactly once across restarts:
 * the state machine records the applied index atomically with the effects of each entry.
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
  /** The highest index whose effects the state machine holds (0 when fresh). */
  appliedIndex(): Promise<number>;
  /** Make every applied effect durable (called before the log is compacted behind it). */
  flush(): Promise<void>;
  /** Stream the state as of `appliedIndex()`; the stream stays consistent while applies go on. */
  snapshot(): AsyncIterable<Uint8Array>;
  /** Replace the whole state with a snapshot's data; afterwards appliedIndex() = meta.index. */
  restore(meta: SnapshotMeta, data: AsyncIterable<Uint8Array>): Promise<void>;
}

