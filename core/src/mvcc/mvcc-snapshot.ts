import type { BackendOp } from '../ports/backend.js';
import { decodeKeyRecord, type KeyRecord } from './key-record.js';
import { META_APPLIED, META_RESTORING, type MvccState } from './mvcc-state.js';
import { decodeRevisionKey, decodeU64, encodeU64, RECORDS_END, RECORDS_START, type Revision } from './revision-key.js';

/** The stored revisions as of one moment, pinned when `MvccStore.pinnedRecords()` returned. */
export interface PinnedRecords {
  readonly appliedIndex: number;
  readonly compactRevision: number;
  records(): AsyncIterable<{ at: Revision; record: KeyRecord }>;
  release(): void;
}

/** The whole key space as of one applied index, pinned when `MvccStore.snapshot()` returned. */
export interface MvccSnapshot {
  readonly index: number;
  /** Length-prefixed pairs in key order; read at most once. */
  readonly data: AsyncIterable<Uint8Array>;
  /** Let go of the read view (idempotent; reading `data` to its end or stopping the read does it too). A read under way then fails. */
  release(): void;
}

/** Bounds of one backend batch during a restore. */
export interface RestoreLimits {
  readonly batchOps?: number;
  readonly batchBytes?: number;
}

/** A restore writes at most this much per backend batch, whatever the store's size. */
export const RESTORE_BATCH_OPS = 1000;
export const RESTORE_BATCH_BYTES = 4 * 1024 * 1024;
/** Snapshot pairs are sent in chunks of about this size (not one chunk per pair). */
const SNAPSHOT_CHUNK_BYTES = 64 * 1024;

/** See `MvccStore.pinnedRecords`. */
export function pinRecords(state: MvccState): PinnedRecords {
  const view = state.backend.readView();
  return {
    appliedIndex: state.applied,
    compactRevision: state.compacted,
    async *records() {
      for await (const [k, v] of view.range({ gte: RECORDS_START, lt: RECORDS_END })) yield { at: decodeRevisionKey(k), record: decodeKeyRecord(v) };
    },
    release: () => view.release(),
  };
}

/** See `MvccStore.snapshot`. */
export function snapshotOf(state: MvccState): MvccSnapshot {
  const view = state.backend.readView();
  const index = state.applied;
  let started = false;
  let released = false;
  let viewReleased = false;
  const releaseView = (): void => {
    if (viewReleased) return;
    viewReleased = true;
    view.release();
  };
  const stream = async function* (): AsyncGenerator<Uint8Array> {
    started = true;
    try {
      if (released) throw new Error(`MVCC snapshot at ${index} was released before it was read`);
      const stored = await view.get(META_APPLIED);
      const at = stored === undefined ? 0 : decodeU64(stored, 'applied index');
      if (at !== index) throw new Error(`MVCC snapshot view is at applied index ${at}, not ${index}: a write fell between them`);
      let parts: Uint8Array[] = [];
      let size = 0;
      for await (const [k, v] of view.range({})) {
        const head = Buffer.allocUnsafe(8);
        head.writeUInt32BE(k.length, 0);
        head.writeUInt32BE(v.length, 4);
        parts.push(head, k, v);
        size += 8 + k.length + v.length;
        if (size >= SNAPSHOT_CHUNK_BYTES) {
          yield Buffer.concat(parts, size);
          // Released while being read: fail the read rather than end it, which would look complete.
          if (released) throw new Error(`MVCC snapshot at ${index} was released while being read`);
          parts = [];
          size = 0;
        }
      }
      if (size > 0) yield Buffer.concat(parts, size);
    } finally {
      releaseView();
    }
  };
  return {
    index,
    data: stream(),
    release: () => {
      if (released) return;
      released = true;
      // Never started, its finally never runs; started, it releases the view when it stops.
      if (!started) releaseView();
    },
  };
}

/** See `MvccStore.restore`; `restored` runs once the state is reloaded. */
export async function restoreSnapshot(
  state: MvccState,
  data: AsyncIterable<Uint8Array>,
  appliedIndex: number,
  limits: RestoreLimits,
  restored: () => void,
): Promise<void> {
  const backend = state.backend;
  const batchOps = limits.batchOps ?? RESTORE_BATCH_OPS;
  const batchBytes = limits.batchBytes ?? RESTORE_BATCH_BYTES;
  await backend.write([{ type: 'put', key: META_RESTORING, value: encodeU64(appliedIndex) }]);
  await backend.flush();
  state.restoring = true;

  let ops: BackendOp[] = [];
  let bytes = 0;
  const stage = async (op: BackendOp): Promise<void> => {
    ops.push(op);
    bytes += op.key.length + (op.type === 'put' ? op.value.length : 0);
    if (ops.length >= batchOps || bytes >= batchBytes) {
      await backend.write(ops);
      ops = [];
      bytes = 0;
    }
  };
  // The marker and the applied index are written last, by the final batch.
  const reserved = (key: Uint8Array): boolean => sameBytes(key, META_RESTORING) || sameBytes(key, META_APPLIED);
  // Merge by key order: keys only the old state has are deleted, changed ones put, equal ones left.
  const view = backend.readView();
  const old = view.range({})[Symbol.asyncIterator]();
  try {
    let current = await old.next();
    let previous: Uint8Array | undefined;
    for await (const [key, value] of snapshotPairs(data)) {
      if (previous !== undefined && Buffer.compare(previous, key) >= 0) throw new Error('MVCC snapshot keys are out of order');
      previous = key;
      if (sameBytes(key, META_APPLIED) && decodeU64(value, 'applied index') !== appliedIndex) {
        throw new Error(`MVCC snapshot data is at applied index ${decodeU64(value, 'applied index')}, its metadata says ${appliedIndex}`);
      }
      if (reserved(key)) continue;
      while (current.done !== true && Buffer.compare(current.value[0], key) < 0) {
        if (!reserved(current.value[0])) await stage({ type: 'del', key: current.value[0] });
        current = await old.next();
      }
      if (current.done !== true && Buffer.compare(current.value[0], key) === 0) {
        if (!sameBytes(current.value[1], value)) await stage({ type: 'put', key, value });
        current = await old.next();
      } else {
        await stage({ type: 'put', key, value });
      }
    }
    while (current.done !== true) {
      if (!reserved(current.value[0])) await stage({ type: 'del', key: current.value[0] });
      current = await old.next();
    }
  } finally {
    await old.return?.();
    view.release();
  }
  if (ops.length > 0) await backend.write(ops);
  // Every batch durable before the marker goes, so it never disappears ahead of the data.
  await backend.flush();
  await backend.write([
    { type: 'put', key: META_APPLIED, value: encodeU64(appliedIndex) },
    { type: 'del', key: META_RESTORING },
  ]);
  await backend.flush();
  await state.load();
  restored();
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

/** The (key, value) pairs of a snapshot stream, whatever its chunking. */
async function* snapshotPairs(data: AsyncIterable<Uint8Array>): AsyncGenerator<[Uint8Array, Uint8Array]> {
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of data) {
    pending = pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([pending, chunk]);
    let offset = 0;
    while (pending.length - offset >= 8) {
      const kl = pending.readUInt32BE(offset);
      const vl = pending.readUInt32BE(offset + 4);
      if (pending.length - offset < 8 + kl + vl) break;
      const key = Uint8Array.from(pending.subarray(offset + 8, offset + 8 + kl));
      const value = Uint8Array.from(pending.subarray(offset + 8 + kl, offset + 8 + kl + vl));
      offset += 8 + kl + vl;
      yield [key, value];
    }
    pending = pending.subarray(offset);
  }
  if (pending.length !== 0) throw new Error(`MVCC snapshot ends inside a record (${pending.length} stray bytes)`);
}
