import { crc32 } from 'node:zlib';
import type { Backend, BackendOp } from '../ports/backend.js';
import { EtcdErrors } from '../api/errors.js';
import {
  CompareResult, CompareTarget, SortTarget,
  type Compare, type CompactionResponse, type DeleteRangeRequest, type DeleteRangeResponse, type KeyValue, type PutRequest,
  type PutResponse, type RangeRequest, type RangeResponse, type RequestOp, type ResponseHeader, type ResponseOp,
  type TxnRequest, type TxnResponse,
} from '../api/kv-types.js';
import { decodeKeyRecord, encodeKeyRecord, toKeyValue, type KeyRecord } from './key-record.js';
import { keyBytes, keyInterval } from '../api/key-interval.js';
import { KeyIndex, NO_LEASE, type IndexedRevision } from './key-index.js';
import { needsEveryMatch, passesRevisionFilters, sortKeyValues } from './range-query.js';
import {
  decodeRevisionKey, decodeU64, encodeRevisionKey, encodeU64, metaKey, RECORD_PREFIX, type Revision,
} from './revision-key.js';

/** Whether a lease exists, as the lease store sees it when a put is applied. */
export interface LeaseLookup {
  exists(id: bigint): boolean;
}

/** One change made by a committed write, in order (what watchers will be sent). */
export interface MvccEvent {
  readonly type: 'put' | 'delete';
  /** For a delete: the key and its mod revision (the delete's revision). */
  readonly kv: KeyValue;
}

/** The stored revisions as of one moment, pinned when `MvccStore.pinnedRecords()` returned. */
export interface PinnedRecords {
  readonly appliedIndex: number;
  readonly compactRevision: number;
  records(): AsyncIterable<{ at: Revision; record: KeyRecord }>;
  release(): void;
}

/** Revisions from one point up to `revision`, pinned when `MvccStore.historyView()` returned. */
export interface HistoryView {
  readonly revision: number;
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

export interface MvccStoreOptions {
  /** Builds response headers (the store knows only the revision). */
  readonly header: (revision: number) => ResponseHeader;
  /** Leases known to the state machine; without it no lease exists. */
  readonly leases?: LeaseLookup;
  /** Tests only: compaction also drops each key's newest revision at or below the compact revision. */
  readonly plantedCompactionBug?: boolean;
}

/** Backend keys of the store's metadata (exported for loaders that write a whole store, e.g. a snapshot restore). */
export const META_REVISION = metaKey('revision');
export const META_COMPACT = metaKey('compact-revision');
export const META_APPLIED = metaKey('applied-index');
/** Present while a restore rewrites the store (its value: the index being restored); found at open, the store is incomplete. */
const META_RESTORING = metaKey('restoring');
/** A restore writes at most this much per backend batch, whatever the store's size. */
export const RESTORE_BATCH_OPS = 1000;
export const RESTORE_BATCH_BYTES = 4 * 1024 * 1024;
/** Snapshot pairs are sent in chunks of about this size (not one chunk per pair). */
const SNAPSHOT_CHUNK_BYTES = 64 * 1024;
const RECORDS_START = Uint8Array.of(RECORD_PREFIX);
const RECORDS_END = Uint8Array.of(RECORD_PREFIX + 1);
const EMPTY = new Uint8Array(0);
const revisionKeyString = (r: Revision): string => `${r.main}:${r.sub}`;
/** Backend reads a range keeps in flight at once. */
const READS_IN_FLIGHT = 64;

/** Outcome of applying a write: a response, or etcd's error (deterministic on every member). */
export type ApplyOutcome<T> = { readonly ok: T } | { readonly error: Error };

/**
 * Reads and writes of one apply: writes go to `ops` (one atomic backend batch at the end), the
 * index is updated as they are made so later operations of the same txn see them.
 */
class WriteBatch {
  readonly ops: BackendOp[] = [];
  readonly written = new Map<string, KeyRecord>();
  readonly events: MvccEvent[] = [];
  sub = 0;

  constructor(readonly revision: number) {}

  get changed(): boolean {
    return this.sub > 0;
  }
}

/**
 * etcd's MVCC key space on the Backend: one revision per write transaction, per-key create/mod
 * revision and version, tombstones, compaction and historical reads. Records live in the
 * Backend under their revision; only the key index is in memory.
 */
export class MvccStore {
  private revision = 1;
  private compacted = 0;
  private applied = 0;
  /** A restore began and has not finished (in this process, or before a crash): the store is incomplete. */
  private restoring = false;
  private index = new KeyIndex();
  private readonly listeners: ((events: readonly MvccEvent[], revision: number) => void)[] = [];
  private readonly restoreListeners: (() => void)[] = [];

  private constructor(private readonly backend: Backend, private readonly options: MvccStoreOptions) {}

  /** Open the store on `backend`, rebuilding the key index from its records. */
  static async open(backend: Backend, options: MvccStoreOptions): Promise<MvccStore> {
    const store = new MvccStore(backend, options);
    await store.load();
    return store;
  }

  private async load(): Promise<void> {
    this.index = new KeyIndex();
    this.restoring = (await this.backend.get(META_RESTORING)) !== undefined;
    // Half old, half new: nothing in it is worth indexing (or trusting) until it is restored again.
    if (this.restoring) return;
    const rev = await this.backend.get(META_REVISION);
    const compact = await this.backend.get(META_COMPACT);
    const applied = await this.backend.get(META_APPLIED);
    this.revision = rev === undefined ? 1 : decodeU64(rev, 'revision');
    this.compacted = compact === undefined ? 0 : decodeU64(compact, 'compact revision');
    this.applied = applied === undefined ? 0 : decodeU64(applied, 'applied index');
    for await (const [k, v] of this.backend.range({ gte: RECORDS_START, lt: RECORDS_END })) {
      const at = decodeRevisionKey(k);
      const r = decodeKeyRecord(v);
      if (at.main > this.revision) throw new Error(`MVCC record at revision ${at.main} is past the store revision ${this.revision}: the store is corrupt`);
      this.index.add(Buffer.from(r.key).toString('latin1'), indexed(at, r));
    }
  }

  get currentRevision(): number {
    return this.revision;
  }

  get compactRevision(): number {
    return this.compacted;
  }

  get appliedIndex(): number {
    return this.applied;
  }

  /** True when a restore was cut short (found at open) or is under way: the state is incomplete until one completes. */
  get restoreInterrupted(): boolean {
    return this.restoring;
  }

  get keyCount(): number {
    return this.index.keyCount;
  }

  /** Every live key that carries a lease, with its lease (the lease store rebuilds its attachments from these). */
  *leasedKeys(): Iterable<[string, bigint]> {
    for (const key of this.index.keysInRange('', '')) {
      const live = this.index.liveAt(key, Infinity);
      if (live !== undefined && live.lease !== NO_LEASE) yield [key, live.lease];
    }
  }

  /** Called after each committed write with its events (in order), e.g. by a watch hub. */
  onCommit(listener: (events: readonly MvccEvent[], revision: number) => void): void {
    this.listeners.push(listener);
  }

  /** Called after a snapshot restore replaced the state (no onCommit events were sent for what it brought in). */
  onRestore(listener: () => void): void {
    this.restoreListeners.push(listener);
  }

  /**
   * Stored revisions from `from` on, in (main, sub) order, from a view pinned now together with
   * the store revision and compact revision of this moment (a watcher catching up reads its
   * history here). Undefined while a restore rewrites the store.
   */
  historyView(from: number): HistoryView | undefined {
    if (this.restoring) return undefined;
    const view = this.backend.readView();
    const through = this.revision;
    return {
      revision: through,
      compactRevision: this.compacted,
      async *records() {
        const range = { gte: encodeRevisionKey({ main: from, sub: 0 }), lt: encodeRevisionKey({ main: through + 1, sub: 0 }) };
        for await (const [k, v] of view.range(range)) yield { at: decodeRevisionKey(k), record: decodeKeyRecord(v) };
      },
      release: () => view.release(),
    };
  }

  // ---- reads ----

  /** A read outside any write (the KV Range RPC). */
  async range(request: RangeRequest): Promise<RangeResponse> {
    return this.rangeAt(request, this.revision, undefined);
  }

  private async rangeAt(r: RangeRequest, current: number, batch: WriteBatch | undefined): Promise<RangeResponse> {
    const rev = (r.revision ?? 0) > 0 ? r.revision! : current;
    if (rev > current) throw EtcdErrors.futureRevision();
    if (rev < this.compacted) throw EtcdErrors.compacted();
    const { start, end } = keyInterval(r.key, r.rangeEnd);
    // Collected synchronously: the index cannot change under us until the first await.
    const matches: [string, IndexedRevision][] = [];
    for (const key of this.index.keysInRange(start, end)) {
      const live = this.index.liveAt(key, rev);
      if (live !== undefined) matches.push([key, live]);
    }
    const header = batch === undefined ? this.options.header(current) : innerHeader(current);
    const count = matches.length;
    if (r.countOnly === true) return { header, kvs: [], more: false, count };

    const limit = r.limit ?? 0;
    const everything = needsEveryMatch(r);
    const selected = everything || limit <= 0 ? matches : matches.slice(0, limit);
    const needValues = r.keysOnly !== true || r.sortTarget === SortTarget.Value;
    const passing = selected.filter(([, at]) => passesRevisionFilters(r, { modRevision: at.main, createRevision: at.createRevision }));
    let kvs: KeyValue[] = [];
    if (!needValues) {
      for (const [key, at] of passing) kvs.push({ key: keyBytes(key), value: EMPTY, createRevision: at.createRevision, modRevision: at.main, version: at.version, lease: at.lease });
    } else {
      // Values are read a chunk at a time, in order: one get after another would leave an engine
      // whose reads run on a thread pool (LevelDB) idle between them.
      for (let i = 0; i < passing.length; i += READS_IN_FLIGHT) {
        const chunk = passing.slice(i, i + READS_IN_FLIGHT);
        const records = await Promise.all(chunk.map(([, at]) => this.readRecord(at, batch)));
        for (let j = 0; j < chunk.length; j++) kvs.push(toKeyValue(records[j]!, chunk[j]![1].main));
      }
    }
    if (everything) sortKeyValues(kvs, r);
    let more = false;
    if (limit > 0 && (everything ? kvs.length : count) > limit) {
      more = true;
      kvs = kvs.slice(0, limit);
    }
    if (r.keysOnly === true) kvs = kvs.map((kv) => ({ ...kv, value: EMPTY }));
    return { header, kvs, more, count };
  }

  private async readRecord(at: Revision, batch: WriteBatch | undefined): Promise<KeyRecord> {
    const own = batch?.written.get(revisionKeyString(at));
    if (own !== undefined) return own;
    const bytes = await this.backend.get(encodeRevisionKey(at));
    // Only a compaction that ran while this read waited can have removed a revision it chose.
    if (bytes === undefined) throw EtcdErrors.compacted();
    return decodeKeyRecord(bytes);
  }

  // ---- writes (applied from the Raft log, one at a time) ----

  async put(index: number, request: PutRequest): Promise<ApplyOutcome<PutResponse>> {
    return this.write(index, async (batch) => {
      this.checkPut(request);
      return this.putIn(batch, request);
    });
  }

  async deleteRange(index: number, request: DeleteRangeRequest): Promise<ApplyOutcome<DeleteRangeResponse>> {
    return this.write(index, (batch) => this.deleteIn(batch, request));
  }

  async txn(index: number, request: TxnRequest): Promise<ApplyOutcome<TxnResponse>> {
    await this.prefetchCompareValues(request);
    try {
      return await this.write(index, async (batch) => {
        // Every compare of the chosen path sees the state before the txn, as in etcd.
        const path = this.comparePath(request);
        this.checkTxnPath(request, path.slice());
        return this.txnIn(batch, request, path);
      });
    } finally {
      this.valueCache.clear();
    }
  }

  /** Drop every revision superseded at or below `revision`; the revision itself stays readable. */
  async compact(index: number, revision: number): Promise<ApplyOutcome<CompactionResponse>> {
    if (revision <= this.compacted) return this.refuse(index, EtcdErrors.compacted());
    if (revision > this.revision) return this.refuse(index, EtcdErrors.futureRevision());
    const ops: BackendOp[] = this.index.compact(revision, this.options.plantedCompactionBug === true).map((r) => ({ type: 'del', key: encodeRevisionKey(r) }));
    ops.push({ type: 'put', key: META_COMPACT, value: encodeU64(revision) });
    ops.push({ type: 'put', key: META_APPLIED, value: encodeU64(index) });
    await this.backend.write(ops);
    this.compacted = revision;
    this.applied = index;
    return { ok: { header: this.options.header(this.revision) } };
  }

  /** Record an applied entry that changed nothing here. */
  async skip(index: number): Promise<void> {
    await this.backend.write([{ type: 'put', key: META_APPLIED, value: encodeU64(index) }]);
    this.applied = index;
  }

  /**
   * Delete `keys` (those live) in one revision, with `extra` writes in the same batch: a lease
   * revoke, whose keys go atomically with the lease record. No live key: no new revision.
   */
  async deleteKeys(index: number, keys: readonly Uint8Array[], extra: readonly BackendOp[]): Promise<ApplyOutcome<{ header: ResponseHeader }>> {
    return this.write(index, async (batch) => {
      for (const key of keys) await this.deleteIn(batch, { key });
      batch.ops.push(...extra);
      return { header: innerHeader(batch.revision) };
    });
  }

  /** Write extra metadata (e.g. alarms) atomically with the applied index. */
  async writeMeta(index: number, ops: readonly BackendOp[]): Promise<void> {
    await this.backend.write([...ops, { type: 'put', key: META_APPLIED, value: encodeU64(index) }]);
    this.applied = index;
  }

  private async refuse<T>(index: number, error: Error): Promise<ApplyOutcome<T>> {
    await this.skip(index);
    return { error };
  }

  private async write<T extends { header: ResponseHeader }>(index: number, body: (batch: WriteBatch) => Promise<T>): Promise<ApplyOutcome<T>> {
    const batch = new WriteBatch(this.revision + 1);
    let response: T;
    try {
      response = await body(batch);
    } catch (err) {
      // Validation happens before the first change, so nothing needs undoing.
      if (batch.changed) throw err;
      return this.refuse(index, err as Error);
    }
    batch.ops.push({ type: 'put', key: META_APPLIED, value: encodeU64(index) });
    if (batch.changed) batch.ops.push({ type: 'put', key: META_REVISION, value: encodeU64(batch.revision) });
    await this.backend.write(batch.ops);
    this.applied = index;
    if (batch.changed) {
      this.revision = batch.revision;
      for (const listener of this.listeners) listener(batch.events, batch.revision);
    }
    return { ok: { ...response, header: this.options.header(this.revision) } };
  }

  private checkPut(r: PutRequest): void {
    if ((r.ignoreValue === true || r.ignoreLease === true) && this.index.liveAt(keyString(r.key), this.revision) === undefined) {
      throw EtcdErrors.keyNotFound();
    }
    const lease = r.lease ?? 0n;
    if (r.ignoreLease !== true && lease !== 0n && this.options.leases?.exists(lease) !== true) throw EtcdErrors.leaseNotFound();
  }

  private async putIn(batch: WriteBatch, r: PutRequest): Promise<PutResponse> {
    const key = keyString(r.key);
    const prev = this.index.liveAt(key, Infinity);
    const prevRecord = prev !== undefined && (r.prevKv === true || r.ignoreValue === true) ? await this.readRecord(prev, batch) : undefined;
    const record: KeyRecord = {
      tombstone: false,
      key: Uint8Array.from(r.key),
      createRevision: prev?.createRevision ?? batch.revision,
      version: (prev?.version ?? 0) + 1,
      lease: r.ignoreLease === true ? (prev?.lease ?? 0n) : (r.lease ?? 0n),
      value: r.ignoreValue === true ? prevRecord!.value : Uint8Array.from(r.value),
    };
    const kv = this.record(batch, key, record);
    batch.events.push({ type: 'put', kv });
    return {
      header: innerHeader(batch.revision),
      ...(r.prevKv === true && prev !== undefined ? { prevKv: toKeyValue(prevRecord!, prev.main) } : {}),
    };
  }

  private async deleteIn(batch: WriteBatch, r: DeleteRangeRequest): Promise<DeleteRangeResponse> {
    const { start, end } = keyInterval(r.key, r.rangeEnd);
    const victims: [string, IndexedRevision][] = [];
    for (const key of this.index.keysInRange(start, end)) {
      const live = this.index.liveAt(key, Infinity);
      if (live !== undefined) victims.push([key, live]);
    }
    const prevKvs: KeyValue[] = [];
    for (const [key, live] of victims) {
      if (r.prevKv === true) prevKvs.push(toKeyValue(await this.readRecord(live, batch), live.main));
      const kv = this.record(batch, key, { tombstone: true, key: keyBytes(key), createRevision: 0, version: 0, lease: 0n, value: EMPTY });
      batch.events.push({ type: 'delete', kv });
    }
    return { header: innerHeader(batch.revision), deleted: victims.length, prevKvs };
  }

  /** Stage one record at the batch's revision and make it visible in the index. */
  private record(batch: WriteBatch, key: string, record: KeyRecord): KeyValue {
    const at = { main: batch.revision, sub: batch.sub++ };
    batch.ops.push({ type: 'put', key: encodeRevisionKey(at), value: encodeKeyRecord(record) });
    batch.written.set(revisionKeyString(at), record);
    this.index.add(key, indexed(at, record));
    return toKeyValue(record, at.main);
  }

  /** The outcome of every compare on the path the txn will take, in pre-order. */
  private comparePath(r: TxnRequest): boolean[] {
    const succeeded = r.compare.every((c) => this.compareHolds(c));
    const path = [succeeded];
    for (const op of succeeded ? r.success : r.failure) {
      if ('requestTxn' in op) path.push(...this.comparePath(op.requestTxn));
    }
    return path;
  }

  private compareHolds(c: Compare): boolean {
    const { start, end } = keyInterval(c.key, c.rangeEnd);
    const live: IndexedRevision[] = [];
    for (const key of this.index.keysInRange(start, end)) {
      const at = this.index.liveAt(key, this.revision);
      if (at !== undefined) live.push(at);
    }
    if (live.length === 0) {
      // A missing key has version, create, mod and lease 0, but no value to compare.
      if (c.target === CompareTarget.Value) return false;
      return holds(compareNumbers(0, operandNumber(c)), c.result);
    }
    return live.every((at) => {
      if (c.target === CompareTarget.Value) {
        const stored = this.valueForCompare(at);
        return holds(Buffer.compare(stored, c.value), c.result);
      }
      const actual = c.target === CompareTarget.Version ? at.version
        : c.target === CompareTarget.Create ? at.createRevision
          : c.target === CompareTarget.Mod ? at.main
            : at.lease;
      return holds(compareNumbers(actual, operandNumber(c)), c.result);
    });
  }

  /** Value compares need the stored value; the apply path reads it synchronously via the cache. */
  private valueForCompare(at: IndexedRevision): Uint8Array {
    const cached = this.valueCache.get(revisionKeyString(at));
    if (cached === undefined) throw new Error(`value of revision ${at.main}.${at.sub} was not prefetched`);
    return cached;
  }

  private readonly valueCache = new Map<string, Uint8Array>();

  /** Load the values that the txn's value compares will look at (compares run synchronously). */
  private async prefetchCompareValues(r: TxnRequest): Promise<void> {
    const visit = async (t: TxnRequest): Promise<void> => {
      for (const c of t.compare) {
        if (c.target !== CompareTarget.Value) continue;
        const { start, end } = keyInterval(c.key, c.rangeEnd);
        for (const key of this.index.keysInRange(start, end)) {
          const at = this.index.liveAt(key, this.revision);
          if (at !== undefined) this.valueCache.set(revisionKeyString(at), (await this.readRecord(at, undefined)).value);
        }
      }
      for (const op of [...t.success, ...t.failure]) if ('requestTxn' in op) await visit(op.requestTxn);
    };
    await visit(r);
  }

  /** Validate every operation on the path before anything is written (no partial txns). */
  private checkTxnPath(r: TxnRequest, path: boolean[]): void {
    const succeeded = path.shift()!;
    for (const op of succeeded ? r.success : r.failure) {
      if ('requestPut' in op) this.checkPut(op.requestPut);
      else if ('requestRange' in op) {
        const rev = op.requestRange.revision ?? 0;
        if (rev > this.revision) throw EtcdErrors.futureRevision();
        if (rev > 0 && rev < this.compacted) throw EtcdErrors.compacted();
      } else if ('requestTxn' in op) this.checkTxnPath(op.requestTxn, path);
    }
  }

  private async txnIn(batch: WriteBatch, r: TxnRequest, path: boolean[]): Promise<TxnResponse> {
    const succeeded = path.shift()!;
    const responses: ResponseOp[] = [];
    for (const op of succeeded ? r.success : r.failure) responses.push(await this.opIn(batch, op, path));
    return { header: innerHeader(batch.revision), succeeded, responses };
  }

  private async opIn(batch: WriteBatch, op: RequestOp, path: boolean[]): Promise<ResponseOp> {
    if ('requestRange' in op) {
      // Reads inside a txn see its earlier writes.
      return { responseRange: await this.rangeAt(op.requestRange, batch.changed ? batch.revision : this.revision, batch) };
    }
    if ('requestPut' in op) return { responsePut: await this.putIn(batch, op.requestPut) };
    if ('requestDeleteRange' in op) return { responseDeleteRange: await this.deleteIn(batch, op.requestDeleteRange) };
    return { responseTxn: await this.txnIn(batch, op.requestTxn, path) };
  }

  // ---- maintenance ----

  /** CRC-32 of every record at or below `revision` (0: current), and the compact revision. */
  async hashKv(revision: number): Promise<{ hash: number; revision: number; compactRevision: number }> {
    // The view and the revisions it is compared with are taken together, before any await.
    const view = this.backend.readView();
    const current = this.revision;
    const compacted = this.compacted;
    let hash = 0;
    try {
      const rev = revision > 0 ? revision : current;
      if (rev > current) throw EtcdErrors.futureRevision();
      if (rev < compacted) throw EtcdErrors.compacted();
      for await (const [k, v] of view.range({ gte: RECORDS_START, lt: encodeRevisionKey({ main: rev + 1, sub: 0 }) })) {
        hash = crc32(v, crc32(k, hash));
      }
    } finally {
      view.release();
    }
    return { hash, revision: current, compactRevision: compacted };
  }

  /**
   * Every stored revision in (main, sub) order, from a view pinned now together with the applied
   * index and compact revision of the same moment (what an etcd snapshot file records beside
   * them). `records()` may be iterated more than once; `release()` frees the view.
   */
  pinnedRecords(): PinnedRecords {
    const view = this.backend.readView();
    return {
      appliedIndex: this.applied,
      compactRevision: this.compacted,
      async *records() {
        for await (const [k, v] of view.range({ gte: RECORDS_START, lt: RECORDS_END })) yield { at: decodeRevisionKey(k), record: decodeKeyRecord(v) };
      },
      release: () => view.release(),
    };
  }

  /**
   * The whole key space (records and metadata) as length-prefixed pairs: the Raft snapshot. The
   * read view and the applied index are taken together, before any await, so no write can fall
   * between them; the stream then reads that view while writes go on.
   */
  snapshot(): MvccSnapshot {
    const view = this.backend.readView();
    const index = this.applied;
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

  /**
   * Replace everything with a snapshot's pairs (in key order, as `snapshot()` sends them), in
   * bounded batches, so a store larger than memory restores too. A marker is durable before the
   * first change and goes only after the last one is durable: a crash midway leaves the store
   * marked incomplete (`restoreInterrupted` at open), never a half-restored store that looks whole.
   * Pairs equal to what the store already holds are not written again.
   */
  async restore(data: AsyncIterable<Uint8Array>, appliedIndex: number, limits: RestoreLimits = {}): Promise<void> {
    const batchOps = limits.batchOps ?? RESTORE_BATCH_OPS;
    const batchBytes = limits.batchBytes ?? RESTORE_BATCH_BYTES;
    await this.backend.write([{ type: 'put', key: META_RESTORING, value: encodeU64(appliedIndex) }]);
    await this.backend.flush();
    this.restoring = true;

    let ops: BackendOp[] = [];
    let bytes = 0;
    const stage = async (op: BackendOp): Promise<void> => {
      ops.push(op);
      bytes += op.key.length + (op.type === 'put' ? op.value.length : 0);
      if (ops.length >= batchOps || bytes >= batchBytes) {
        await this.backend.write(ops);
        ops = [];
        bytes = 0;
      }
    };
    // The marker and the applied index are written last, by the final batch.
    const reserved = (key: Uint8Array): boolean => sameBytes(key, META_RESTORING) || sameBytes(key, META_APPLIED);
    // Merge by key order: keys only the old state has are deleted, changed ones put, equal ones left.
    const view = this.backend.readView();
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
    if (ops.length > 0) await this.backend.write(ops);
    // Every batch durable before the marker goes, so it never disappears ahead of the data.
    await this.backend.flush();
    await this.backend.write([
      { type: 'put', key: META_APPLIED, value: encodeU64(appliedIndex) },
      { type: 'del', key: META_RESTORING },
    ]);
    await this.backend.flush();
    await this.load();
    for (const listener of this.restoreListeners) listener();
  }

  /** Make every applied write durable. */
  async flush(): Promise<void> {
    await this.backend.flush();
  }
}

/**
 * Responses inside a txn carry only the revision, as etcd's do; the outermost response gets the
 * member's full header when the write completes.
 */
function innerHeader(revision: number): ResponseHeader {
  return { clusterId: 0n, memberId: 0n, revision, raftTerm: 0 };
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

function keyString(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

function indexed(at: Revision, r: KeyRecord): IndexedRevision {
  return { main: at.main, sub: at.sub, tombstone: r.tombstone, createRevision: r.createRevision, version: r.version, lease: r.lease === 0n ? NO_LEASE : r.lease };
}

function operandNumber(c: Compare): number | bigint {
  switch (c.target) {
    case CompareTarget.Version: return c.version;
    case CompareTarget.Create: return c.createRevision;
    case CompareTarget.Mod: return c.modRevision;
    case CompareTarget.Lease: return c.lease;
    default: return 0;
  }
}

function compareNumbers(a: number | bigint, b: number | bigint): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function holds(cmp: number, result: CompareResult): boolean {
  switch (result) {
    case CompareResult.Equal: return cmp === 0;
    case CompareResult.NotEqual: return cmp !== 0;
    case CompareResult.Greater: return cmp > 0;
    case CompareResult.Less: return cmp < 0;
    default: return false;
  }
}
