import { inject, injectable, optional } from 'inversify';
import { BACKEND, type Backend, type BackendOp } from '../ports/backend.js';
import { CLOCK, type Clock } from '../ports/clock.js';
import { DISK_LATENCY, type DiskLatency } from '../ports/disk-latency.js';
import type {
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  ResponseHeader,
  TxnRequest,
  TxnResponse,
} from '../api/kv-types.js';
import { RESPONSE_HEADERS, type ResponseHeaders } from '../api/response-headers.js';
import { LEASE_LOOKUP, type LeaseLookup } from './lease-lookup.js';
import { hashKv } from './mvcc-hash.js';
import { MvccReads, type HistoryView } from './mvcc-reads.js';
import { pinRecords, restoreSnapshot, snapshotOf, type MvccSnapshot, type PinnedRecords, type RestoreLimits } from './mvcc-snapshot.js';
import { MvccState } from './mvcc-state.js';
import { MvccWrites, type ApplyOutcome } from './mvcc-writes.js';
import { TimedBackend } from './timed-backend.js';
import { TxnCompares } from './txn-compare.js';
import type { MvccEvent } from './write-batch.js';

// Declared beside the parts that use them; callers of the store import them from here.
export type { LeaseLookup } from './lease-lookup.js';
export type { HistoryView } from './mvcc-reads.js';
export { RESTORE_BATCH_BYTES, RESTORE_BATCH_OPS, type MvccSnapshot, type PinnedRecords, type RestoreLimits } from './mvcc-snapshot.js';
export { META_APPLIED, META_COMPACT, META_REVISION } from './mvcc-state.js';
export type { ApplyOutcome } from './mvcc-writes.js';
export type { MvccEvent } from './write-batch.js';

export interface MvccStoreOptions {
  /** Builds response headers (the store knows only the revision). */
  readonly header: (revision: number) => ResponseHeader;
  /** Leases known to the state machine; without it no lease exists. */
  readonly leases?: LeaseLookup;
  /** Tests only: compaction also drops each key's newest revision at or below the compact revision. */
  readonly plantedCompactionBug?: boolean;
}

/** Tests only: what `MvccStoreOptions.plantedCompactionBug` says. */
export interface MvccStoreTestOptions {
  readonly plantedCompactionBug?: boolean;
}

export const MVCC_STORE_TEST_OPTIONS = Symbol.for('cairn.value.MvccStoreTestOptions');

/**
 * etcd's MVCC key space on the Backend: one revision per write transaction, per-key create/mod
 * revision and version, tombstones, compaction and historical reads. Records live in the
 * Backend under their revision; only the key index is in memory. Built by a container (then
 * `load()`), or by `open()`.
 */
@injectable()
export class MvccStore {
  private readonly state: MvccState;
  private readonly reads: MvccReads;
  private readonly writes: MvccWrites;
  private readonly restoreListeners: (() => void)[] = [];

  constructor(
    @inject(BACKEND) backend: Backend,
    @inject(RESPONSE_HEADERS) headers: ResponseHeaders,
    @inject(LEASE_LOOKUP) @optional() leases?: LeaseLookup,
    @inject(MVCC_STORE_TEST_OPTIONS) @optional() testOptions?: MvccStoreTestOptions,
    @inject(DISK_LATENCY) @optional() diskLatency?: DiskLatency,
    @inject(CLOCK) @optional() clock?: Clock,
  ) {
    this.state = new MvccState(diskLatency === undefined || clock === undefined ? backend : new TimedBackend(backend, clock, diskLatency));
    this.reads = new MvccReads(this.state, headers);
    const compares = new TxnCompares(this.state, this.reads);
    this.writes = new MvccWrites(this.state, this.reads, compares, headers, leases, testOptions?.plantedCompactionBug === true);
  }

  /** Open the store on `backend`, rebuilding the key index from its records. */
  static async open(backend: Backend, options: MvccStoreOptions): Promise<MvccStore> {
    const headers: ResponseHeaders = { header: (revision) => options.header(revision) };
    const store = new MvccStore(backend, headers, options.leases, { plantedCompactionBug: options.plantedCompactionBug === true });
    await store.load();
    return store;
  }

  /** Read the Backend: the revisions, and the key index rebuilt from its records. */
  async load(): Promise<void> {
    await this.state.load();
  }

  get currentRevision(): number {
    return this.state.revision;
  }

  get compactRevision(): number {
    return this.state.compacted;
  }

  get appliedIndex(): number {
    return this.state.applied;
  }

  /** True when a restore was cut short (found at open) or is under way: the state is incomplete until one completes. */
  get restoreInterrupted(): boolean {
    return this.state.restoring;
  }

  get keyCount(): number {
    return this.state.index.keyCount;
  }

  /** Keys that exist now (not deleted): etcd's etcd_debugging_mvcc_keys_total. */
  get liveKeyCount(): number {
    return this.state.index.liveKeyCount;
  }

  /** Every live key that carries a lease, with its lease (the lease store rebuilds its attachments from these). */
  leasedKeys(): Iterable<[string, bigint]> {
    return this.reads.leasedKeys();
  }

  /** Called after each committed write with its events (in order), e.g. by a watch hub. */
  onCommit(listener: (events: readonly MvccEvent[], revision: number) => void): void {
    this.writes.onCommit(listener);
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
    return this.reads.historyView(from);
  }

  // ---- reads ----

  /** A read outside any write (the KV Range RPC). */
  async range(request: RangeRequest): Promise<RangeResponse> {
    return this.reads.rangeAt(request, this.state.revision, undefined);
  }

  // ---- writes (applied from the Raft log, one at a time) ----
  // The store keeps the bytes of the requests it is given (records, watch events): callers hand
  // over requests they do not change afterwards, as the apply path's freshly decoded ones.

  put(index: number, request: PutRequest): Promise<ApplyOutcome<PutResponse>> {
    return this.writes.put(index, request);
  }

  deleteRange(index: number, request: DeleteRangeRequest): Promise<ApplyOutcome<DeleteRangeResponse>> {
    return this.writes.deleteRange(index, request);
  }

  txn(index: number, request: TxnRequest): Promise<ApplyOutcome<TxnResponse>> {
    return this.writes.txn(index, request);
  }

  /** Drop every revision superseded at or below `revision`; the revision itself stays readable. */
  compact(index: number, revision: number): Promise<ApplyOutcome<CompactionResponse>> {
    return this.writes.compact(index, revision);
  }

  /** Record an applied entry that changed nothing here. */
  skip(index: number): Promise<void> {
    return this.writes.skip(index);
  }

  /**
   * Delete `keys` (those live) in one revision, with `extra` writes in the same batch: a lease
   * revoke, whose keys go atomically with the lease record. No live key: no new revision.
   */
  deleteKeys(index: number, keys: readonly Uint8Array[], extra: readonly BackendOp[]): Promise<ApplyOutcome<{ header: ResponseHeader }>> {
    return this.writes.deleteKeys(index, keys, extra);
  }

  /** Write extra metadata (e.g. alarms) atomically with the applied index. */
  writeMeta(index: number, ops: readonly BackendOp[]): Promise<void> {
    return this.writes.writeMeta(index, ops);
  }

  // ---- maintenance ----

  /** CRC-32 of every record at or below `revision` (0: current), and the compact revision. */
  hashKv(revision: number): Promise<{ hash: number; revision: number; compactRevision: number }> {
    return hashKv(this.state, revision);
  }

  /**
   * Every stored revision in (main, sub) order, from a view pinned now together with the applied
   * index and compact revision of the same moment (what an etcd snapshot file records beside
   * them). `records()` may be iterated more than once; `release()` frees the view.
   */
  pinnedRecords(): PinnedRecords {
    return pinRecords(this.state);
  }

  /**
   * The whole key space (records and metadata) as length-prefixed pairs: the Raft snapshot. The
   * read view and the applied index are taken together, before any await, so no write can fall
   * between them; the stream then reads that view while writes go on.
   */
  snapshot(): MvccSnapshot {
    return snapshotOf(this.state);
  }

  /**
   * Replace everything with a snapshot's pairs (in key order, as `snapshot()` sends them), in
   * bounded batches, so a store larger than memory restores too. A marker is durable before the
   * first change and goes only after the last one is durable: a crash midway leaves the store
   * marked incomplete (`restoreInterrupted` at open), never a half-restored store that looks whole.
   * Pairs equal to what the store already holds are not written again.
   */
  restore(data: AsyncIterable<Uint8Array>, appliedIndex: number, limits: RestoreLimits = {}): Promise<void> {
    return restoreSnapshot(this.state, data, appliedIndex, limits, () => {
      for (const listener of this.restoreListeners) listener();
    });
  }

  /** Make every applied write durable. */
  async flush(): Promise<void> {
    await this.state.backend.flush();
  }
}
