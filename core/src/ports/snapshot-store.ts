import type { SnapshotMeta } from '../protocol/raft-types.js';
import type { Lifecycle } from './lifecycle.js';

/** A stored snapshot: its metadata and a reader of its bytes. */
export interface StoredSnapshot {
  readonly meta: SnapshotMeta;
  /** Size of the data in bytes. */
  readonly size: number;
  /** Yields the data in order; each call starts a new read. */
  read(): AsyncIterable<Uint8Array>;
}

/**
 * Snapshots of the state machine, streamed in and out (never whole in memory). Each is stored with
 * a checksum of its data; a snapshot whose checksum does not match is never returned.
 *
 * A member saves only snapshots it receives from a leader, before installing them (and restores
 * the latest at start if its state machine is behind it). Its own log compaction copies nothing
 * here, and the snapshots it sends are streamed from its state machine, not from this store.
 */
export interface SnapshotStore extends Lifecycle {
  /**
   * Store `data` as the snapshot described by `meta`. Resolves once data, checksum and metadata
   * are durable; only then does it become `latest()`. A failed or abandoned write leaves nothing.
   * Afterwards only the `retain` most recently saved snapshots (an option of the implementation)
   * are kept.
   */
  save(meta: SnapshotMeta, data: AsyncIterable<Uint8Array>): Promise<void>;
  /**
   * The most recently saved complete snapshot, checksum verified — by order of completed saves,
   * not by index: a snapshot received from a deposed leader may carry a higher index than the one
   * a member must install next, and must not shadow it. Undefined when there is none. Rejects,
   * naming the file, when that snapshot is corrupt.
   */
  latest(): Promise<StoredSnapshot | undefined>;
}

export const SNAPSHOT_STORE = Symbol.for('cairn.port.SnapshotStore');
