import type { Lifecycle } from './lifecycle.js';

/** Bounds of an ordered iteration over raw keys (unsigned byte order). */
export interface BackendRange {
  /** Inclusive lower bound; omitted = from the first key. */
  readonly gte?: Uint8Array;
  /** Exclusive upper bound; omitted = to the last key. */
  readonly lt?: Uint8Array;
  /** Iterate from the highest key down. */
  readonly reverse?: boolean;
  /** At most this many pairs. */
  readonly limit?: number;
}

export type BackendOp = { readonly type: 'put'; readonly key: Uint8Array; readonly value: Uint8Array } | { readonly type: 'del'; readonly key: Uint8Array };

/** Reads that all see one fixed state. */
export interface BackendReader {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  range(range: BackendRange): AsyncIterable<[Uint8Array, Uint8Array]>;
}

/** A read view pinned at one moment: writes made after it was taken are invisible to it. Release it promptly: it may pin space. */
export interface BackendReadView extends BackendReader {
  release(): void;
}

export interface BackendSize {
  /** Bytes the store occupies on disk. */
  readonly total: number;
  /** Bytes of it holding live data (the rest is free space a defragment would return). */
  readonly inUse: number;
  /**
   * Bytes the file system holding the store can still give it (statfs: blocks available to an
   * unprivileged writer × block size). Absent when the engine cannot tell (a store in memory).
   */
  readonly available?: number;
}

/**
 * The ordered key space under the MVCC state. Keys and values are raw bytes; keys sort as
 * unsigned bytes. A write batch is atomic and visible to reads made after it resolves, but need not
 * be durable until `flush()`: the Raft log is the durable record, and the MVCC layer stores the
 * applied index inside the same batches, so a restart replays exactly what was lost.
 */
export interface Backend extends BackendReader, Lifecycle {
  /** Apply all operations atomically, in order. */
  write(ops: readonly BackendOp[]): Promise<void>;
  /** Resolves when every write that resolved before this call is durable. */
  flush(): Promise<void>;
  /** A stable view of the current state (used while a snapshot streams out). */
  readView(): BackendReadView;
  size(): Promise<BackendSize>;
  /** Return free space to the file system where the engine allows it. */
  defragment(): Promise<void>;
}

export const BACKEND = Symbol.for('cairn.port.Backend');
