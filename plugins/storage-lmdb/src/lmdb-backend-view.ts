import type { Database, Transaction } from 'lmdb';
import type { BackendRange, BackendReadView } from '@cairn/core';
import { decodeBackendRecord } from './backend-record.js';
import type { ReleaseLease } from './storage-gate.js';
import { layerKey, pendingInRange, type PendingWrite, type WriteLayer } from './write-layer.js';

/** What a read sees: the Backend's uncommitted layers (newest first) over LMDB, both taken in the same turn. */
export interface ReadState {
  readonly layers: readonly WriteLayer[];
  readonly db: Database<Uint8Array, Uint8Array>;
  readonly file: string;
  /** The read transaction of a view; without one, lmdb-js's current one (good for one turn). */
  readonly txn?: Transaction;
}

/** A view's state: its own read transaction, and the lease that keeps the environment from being swapped under it. */
export interface ViewState extends ReadState {
  readonly txn: Transaction;
  readonly release: ReleaseLease;
}

/** No key sorts before it: LMDB stores no empty key. */
const SMALLEST_KEY = Uint8Array.of(0);

const copyOf = (bytes: Uint8Array): Uint8Array => Uint8Array.from(bytes);

/**
 * A read view of the Backend pinned at one moment: an LMDB read transaction (which LMDB keeps
 * unchanged while writes go on) under the writes that were not committed yet at that moment.
 * When it was taken while the environment was busy defragmenting, the moment is its first read.
 */
export class LmdbBackendView implements BackendReadView {
  private state: ViewState | undefined;
  private pending: Promise<ViewState> | undefined;
  private released = false;
  /** Why the view cannot be read any more though it was not released (the backend closed). */
  private ended: string | undefined;

  /** `onRelease` hears of the view's end, once. */
  constructor(
    source: ViewState | (() => Promise<ViewState>),
    private readonly onRelease: (view: LmdbBackendView) => void = () => undefined,
  ) {
    if (typeof source === 'function') {
      this.pending = source().then((state) => {
        if (this.released) state.release();
        this.state = state;
        return state;
      });
      this.pending.catch(() => undefined);
    } else {
      this.state = source;
    }
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return lookup(await this.current(), key);
  }

  async *range(range: BackendRange): AsyncIterable<[Uint8Array, Uint8Array]> {
    const pairs = pairsIn(await this.current(), range);
    try {
      for (;;) {
        // Checked before each step, so the cursor is never moved on a transaction already done.
        this.check();
        const next = pairs.next();
        if (next.done === true) return;
        yield next.value;
      }
    } finally {
      if (this.ended === undefined) pairs.return(undefined);
    }
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.state?.release();
    this.onRelease(this);
  }

  /** End the view now (its environment is closing): later reads fail with `reason`. */
  end(reason: string): void {
    if (this.released || this.ended !== undefined) return;
    this.ended = reason;
    this.state?.release();
    this.released = true;
  }

  private check(): void {
    if (this.ended !== undefined) throw new Error(`read view: ${this.ended}`);
    if (this.released) throw new Error('read view used after release()');
  }

  private async current(): Promise<ViewState> {
    this.check();
    const state = this.state ?? (await this.pending!);
    this.check();
    return state;
  }
}

/** The value of `key` as `state` sees it. */
export function lookup(state: ReadState, key: Uint8Array): Uint8Array | undefined {
  if (key.byteLength === 0) return undefined;
  const k = layerKey(key);
  for (const layer of state.layers) {
    const write = layer.get(k);
    if (write !== undefined) return write.record === undefined ? undefined : copyOf(decodeBackendRecord(write.key, write.record, state.file));
  }
  const record = state.txn === undefined ? state.db.get(key) : state.db.get(key, { transaction: state.txn });
  return record === undefined ? undefined : decodeBackendRecord(key, record, state.file);
}

/** The pairs of `range` as `state` sees them: LMDB's cursor merged with the uncommitted writes. */
export function* pairsIn(state: ViewState, range: BackendRange): Generator<[Uint8Array, Uint8Array]> {
  const limit = range.limit ?? Infinity;
  if (limit <= 0) return;
  const gte = range.gte !== undefined && range.gte.byteLength > 0 ? range.gte : undefined;
  const lt = range.lt;
  if (lt !== undefined && (lt.byteLength === 0 || (gte !== undefined && Buffer.compare(gte, lt) >= 0))) return;
  const reverse = range.reverse === true;
  const pending = pendingInRange(state.layers, gte === undefined ? undefined : layerKey(gte), lt === undefined ? undefined : layerKey(lt), reverse);
  const cursor = state.db.getRange(
    reverse
      ? // Backwards, lmdb-js stops before its default end (the one-byte key 0x00) unless told to include it.
        {
          transaction: state.txn,
          reverse: true,
          ...(lt === undefined ? {} : { start: lt, exclusiveStart: true }),
          end: gte ?? SMALLEST_KEY,
          inclusiveEnd: true,
        }
      : { transaction: state.txn, ...(gte === undefined ? {} : { start: gte }), ...(lt === undefined ? {} : { end: lt }) },
  );
  const direction = reverse ? -1 : 1;
  let next = 0;
  let emitted = 0;
  const fromPending = (write: PendingWrite): [Uint8Array, Uint8Array] | undefined =>
    write.record === undefined ? undefined : [copyOf(write.key), copyOf(decodeBackendRecord(write.key, write.record, state.file))];

  for (const { key, value } of cursor) {
    while (next < pending.length && direction * Buffer.compare(pending[next]!.key, key) < 0) {
      const pair = fromPending(pending[next++]!);
      if (pair === undefined) continue;
      yield pair;
      if (++emitted >= limit) return;
    }
    if (next < pending.length && Buffer.compare(pending[next]!.key, key) === 0) {
      // The uncommitted write of this key replaces what LMDB holds.
      const pair = fromPending(pending[next++]!);
      if (pair === undefined) continue;
      yield pair;
    } else {
      yield [key, decodeBackendRecord(key, value, state.file)];
    }
    if (++emitted >= limit) return;
  }
  while (next < pending.length) {
    const pair = fromPending(pending[next++]!);
    if (pair === undefined) continue;
    yield pair;
    if (++emitted >= limit) return;
  }
}
