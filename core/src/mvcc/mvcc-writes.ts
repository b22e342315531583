import type { BackendOp } from '../ports/backend.js';
import { EtcdErrors } from '../api/errors.js';
import type {
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  KeyValue,
  PutRequest,
  PutResponse,
  RequestOp,
  ResponseHeader,
  ResponseOp,
  TxnRequest,
  TxnResponse,
} from '../api/kv-types.js';
import { keyBytes, keyInterval } from '../api/key-interval.js';
import type { ResponseHeaders } from '../api/response-headers.js';
import { encodeKeyRecord, toKeyValue, type KeyRecord } from './key-record.js';
import type { IndexedRevision } from './key-index.js';
import type { LeaseLookup } from './lease-lookup.js';
import type { MvccReads } from './mvcc-reads.js';
import { indexed, META_APPLIED, META_COMPACT, META_REVISION, type MvccState } from './mvcc-state.js';
import { encodeRevisionKey, encodeU64, revisionKeyString } from './revision-key.js';
import type { TxnCompares } from './txn-compare.js';
import { innerHeader, WriteBatch, type MvccEvent } from './write-batch.js';

/** Outcome of applying a write: a response, or etcd's error (deterministic on every member). */
export type ApplyOutcome<T> = { readonly ok: T } | { readonly error: Error };

const EMPTY = new Uint8Array(0);

function keyString(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

/** The MvccStore's writes, applied from the Raft log one at a time: each is one atomic Backend batch. */
export class MvccWrites {
  private readonly listeners: ((events: readonly MvccEvent[], revision: number) => void)[] = [];

  constructor(
    private readonly state: MvccState,
    private readonly reads: MvccReads,
    private readonly compares: TxnCompares,
    private readonly headers: ResponseHeaders,
    private readonly leases: LeaseLookup | undefined,
    /** Tests only: see `MvccStoreOptions.plantedCompactionBug`. */
    private readonly plantedCompactionBug: boolean,
  ) {}

  /** See `MvccStore.onCommit`. */
  onCommit(listener: (events: readonly MvccEvent[], revision: number) => void): void {
    this.listeners.push(listener);
  }

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
    await this.compares.prefetchValues(request);
    try {
      return await this.write(index, async (batch) => {
        // Every compare of the chosen path sees the state before the txn, as in etcd.
        const path = this.compares.path(request);
        this.checkTxnPath(request, path.slice());
        return this.txnIn(batch, request, path);
      });
    } finally {
      this.compares.clear();
    }
  }

  async compact(index: number, revision: number): Promise<ApplyOutcome<CompactionResponse>> {
    const state = this.state;
    if (revision <= state.compacted) return this.refuse(index, EtcdErrors.compacted());
    if (revision > state.revision) return this.refuse(index, EtcdErrors.futureRevision());
    const ops: BackendOp[] = state.index.compact(revision, this.plantedCompactionBug).map((r) => ({ type: 'del', key: encodeRevisionKey(r) }));
    ops.push({ type: 'put', key: META_COMPACT, value: encodeU64(revision) });
    ops.push({ type: 'put', key: META_APPLIED, value: encodeU64(index) });
    await state.backend.write(ops);
    state.compacted = revision;
    state.applied = index;
    return { ok: { header: this.headers.header(state.revision) } };
  }

  async skip(index: number): Promise<void> {
    await this.state.backend.write([{ type: 'put', key: META_APPLIED, value: encodeU64(index) }]);
    this.state.applied = index;
  }

  async deleteKeys(index: number, keys: readonly Uint8Array[], extra: readonly BackendOp[]): Promise<ApplyOutcome<{ header: ResponseHeader }>> {
    return this.write(index, async (batch) => {
      for (const key of keys) await this.deleteIn(batch, { key });
      batch.ops.push(...extra);
      return { header: innerHeader(batch.revision) };
    });
  }

  async writeMeta(index: number, ops: readonly BackendOp[]): Promise<void> {
    await this.state.backend.write([...ops, { type: 'put', key: META_APPLIED, value: encodeU64(index) }]);
    this.state.applied = index;
  }

  private async refuse<T>(index: number, error: Error): Promise<ApplyOutcome<T>> {
    await this.skip(index);
    return { error };
  }

  private async write<T extends { header: ResponseHeader }>(index: number, body: (batch: WriteBatch) => Promise<T>): Promise<ApplyOutcome<T>> {
    const state = this.state;
    const batch = new WriteBatch(state.revision + 1);
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
    await state.backend.write(batch.ops);
    state.applied = index;
    if (batch.changed) {
      state.revision = batch.revision;
      for (const listener of this.listeners) listener(batch.events, batch.revision);
    }
    return { ok: { ...response, header: this.headers.header(state.revision) } };
  }

  private checkPut(r: PutRequest): void {
    if ((r.ignoreValue === true || r.ignoreLease === true) && this.state.index.liveAt(keyString(r.key), this.state.revision) === undefined) {
      throw EtcdErrors.keyNotFound();
    }
    const lease = r.lease ?? 0n;
    if (r.ignoreLease !== true && lease !== 0n && this.leases?.exists(lease) !== true) throw EtcdErrors.leaseNotFound();
  }

  private async putIn(batch: WriteBatch, r: PutRequest): Promise<PutResponse> {
    const key = keyString(r.key);
    const prev = this.state.index.liveAt(key, Infinity);
    const prevRecord = prev !== undefined && (r.prevKv === true || r.ignoreValue === true) ? await this.reads.readRecord(prev, batch) : undefined;
    const record: KeyRecord = {
      tombstone: false,
      // The request's own bytes: it was decoded from the committed entry for this apply alone.
      key: r.key,
      createRevision: prev?.createRevision ?? batch.revision,
      version: (prev?.version ?? 0) + 1,
      lease: r.ignoreLease === true ? (prev?.lease ?? 0n) : (r.lease ?? 0n),
      value: r.ignoreValue === true ? prevRecord!.value : r.value,
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
    for (const key of this.state.index.keysInRange(start, end)) {
      const live = this.state.index.liveAt(key, Infinity);
      if (live !== undefined) victims.push([key, live]);
    }
    const prevKvs: KeyValue[] = [];
    for (const [key, live] of victims) {
      if (r.prevKv === true) prevKvs.push(toKeyValue(await this.reads.readRecord(live, batch), live.main));
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
    this.state.index.add(key, indexed(at, record));
    return toKeyValue(record, at.main);
  }

  /** Validate every operation on the path before anything is written (no partial txns). */
  private checkTxnPath(r: TxnRequest, path: boolean[]): void {
    const succeeded = path.shift()!;
    for (const op of succeeded ? r.success : r.failure) {
      if ('requestPut' in op) this.checkPut(op.requestPut);
      else if ('requestRange' in op) {
        const rev = op.requestRange.revision ?? 0;
        if (rev > this.state.revision) throw EtcdErrors.futureRevision();
        if (rev > 0 && rev < this.state.compacted) throw EtcdErrors.compacted();
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
      return { responseRange: await this.reads.rangeAt(op.requestRange, batch.changed ? batch.revision : this.state.revision, batch) };
    }
    if ('requestPut' in op) return { responsePut: await this.putIn(batch, op.requestPut) };
    if ('requestDeleteRange' in op) return { responseDeleteRange: await this.deleteIn(batch, op.requestDeleteRange) };
    return { responseTxn: await this.txnIn(batch, op.requestTxn, path) };
  }
}
