import { inject, injectable, optional } from 'inversify';
import type { Backend, BackendOp, BackendRange, BackendReadView, BackendSize } from '@cairn/core';
import { checkBackendKey, encodeBackendRecord } from './backend-record.js';
import { LmdbEnvironment, quietly } from './lmdb-environment.js';
import { LmdbBackendView, lookup, type ViewState } from './lmdb-backend-view.js';
import type { ReleaseLease } from './storage-gate.js';
import { LMDB_BACKEND_BATCH } from './tokens.js';
import { layerKey, type WriteLayer } from './write-layer.js';

/**
 * The MVCC key space in the backend database. The MVCC layer applies committed Raft entries one
 * write at a time, awaiting each; one LMDB transaction per write would cost a commit (and lmdb-js
 * syncs every commit) per entry. So a write lands in an in-memory layer at once (atomic and
 * visible: every read looks there first) and the layer is committed as one transaction at the end
 * of the turn: the entries a Raft Ready applies become one LMDB commit. `flush()` commits what is
 * left and waits for the sync. Pairs carry a CRC-32 over key and value.
 */
/** etcd's backend batching: commit at most every 100 ms, or at 1,000 pending keys (reads merge the pending keys). */
export const BACKEND_BATCH = { intervalMs: 100, maxKeys: 1000 } as const;

@injectable()
export class LmdbBackend implements Backend {
  /** Writes since the last commit began. Shared with read views until the next write copies it. */
  private pending: WriteLayer = new Map();
  private pendingShared = false;
  /** Layers whose commit is in flight, oldest first: reads still need them until it lands. */
  private committing: WriteLayer[] = [];
  private commitScheduled = false;
  /** Read views not yet released (ranges use one each). */
  private readonly views = new Set<LmdbBackendView>();
  private lastDurable: Promise<void> = Promise.resolve();
  /** A commit that failed lost writes that had resolved: nothing may be written or flushed after it. */
  private failure: Error | undefined;
  private opened = false;

  private commitTimer: NodeJS.Timeout | undefined;

  /**
   * `batch`: pending writes are committed every `intervalMs`, or at once when `maxKeys` keys are
   * pending, as etcd batches its backend commits (100 ms / 10,000 writes). The Raft log is the
   * durable record, so a crash loses nothing; fewer LMDB commits mean fewer syncs competing with
   * the log's, which acknowledge writes.
   */
  constructor(
    @inject(LmdbEnvironment) private readonly env: LmdbEnvironment,
    @inject(LMDB_BACKEND_BATCH) @optional() private readonly batch: { readonly intervalMs: number; readonly maxKeys: number } = BACKEND_BATCH,
  ) {}

  async open(): Promise<void> {
    if (this.opened) return;
    await this.env.acquire();
    this.failure = undefined;
    this.opened = true;
  }

  async close(): Promise<void> {
    if (!this.opened) return;
    try {
      if (this.failure === undefined) await this.flush();
    } finally {
      this.opened = false;
      // Views still open end here, while their transactions can still be ended cleanly.
      for (const view of this.views) view.end(`the backend at ${this.env.dataFile} was closed`);
      this.views.clear();
      await this.env.release();
    }
  }

  async write(ops: readonly BackendOp[]): Promise<void> {
    this.checkUsable();
    for (const op of ops) checkBackendKey(op.key);
    if (this.pendingShared) {
      this.pending = new Map(this.pending);
      this.pendingShared = false;
    }
    for (const op of ops) {
      const key = Uint8Array.from(op.key);
      this.pending.set(layerKey(key), { key, record: op.type === 'put' ? encodeBackendRecord(key, op.value) : undefined });
    }
    if (this.pending.size >= this.batch.maxKeys) {
      this.commitPending();
    } else if (!this.commitScheduled && ops.length > 0) {
      this.commitScheduled = true;
      if (this.batch.intervalMs <= 0) setImmediate(() => this.commitPending());
      else this.commitTimer = setTimeout(() => this.commitPending(), this.batch.intervalMs);
    }
  }

  async flush(): Promise<void> {
    this.checkUsable();
    this.commitPending();
    await this.lastDurable;
  }

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    if (!this.opened) return Promise.reject(this.notOpen());
    // Layers and LMDB are read in the same turn, so a layer cannot land in between.
    return this.env.gate.run(async () => lookup({ layers: this.layersNow(), db: this.env.databases.backend, file: this.env.dataFile }, key));
  }

  async *range(range: BackendRange): AsyncIterable<[Uint8Array, Uint8Array]> {
    const view = this.readView();
    try {
      yield* view.range(range);
    } finally {
      view.release();
    }
  }

  readView(): BackendReadView {
    if (!this.opened) throw this.notOpen();
    const release = this.env.gate.lease();
    const forget = (view: LmdbBackendView): void => {
      this.views.delete(view);
    };
    const view =
      release !== undefined
        ? new LmdbBackendView(this.stateNow(release), forget)
        : new LmdbBackendView(async () => this.stateNow(await this.env.gate.leaseWhenOpen()), forget);
    this.views.add(view);
    return view;
  }

  size(): Promise<BackendSize> {
    return this.env.size();
  }

  async defragment(): Promise<void> {
    // Pending writes (deletes after a compaction, above all) must be in the file it compacts.
    await this.flush();
    return this.env.defragment();
  }

  /** The layers and a read transaction, taken together; `release` ends the lease along with the transaction. */
  private stateNow(release: ReleaseLease): ViewState {
    this.pendingShared = true;
    const layers = this.layersNow();
    const txn = this.env.readTransaction();
    let done = false;
    return {
      layers,
      txn,
      db: this.env.databases.backend,
      file: this.env.dataFile,
      release: () => {
        if (done) return;
        done = true;
        txn.done();
        release();
      },
    };
  }

  /** Every uncommitted layer, newest first. */
  private layersNow(): WriteLayer[] {
    const layers: WriteLayer[] = [this.pending];
    for (let i = this.committing.length - 1; i >= 0; i--) layers.push(this.committing[i]!);
    return layers;
  }

  /** Commit the pending layer as one transaction (not waiting for its sync). */
  private commitPending(): void {
    this.commitScheduled = false;
    if (this.commitTimer !== undefined) clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    if (this.pending.size === 0 || this.failure !== undefined || !this.opened) return;
    const layer = this.pending;
    this.pending = new Map();
    this.pendingShared = false;
    this.committing.push(layer);
    const { committed, durable } = this.env.write(({ backend }) => {
      for (const { key, record } of layer.values()) {
        if (record === undefined) quietly(backend.remove(key));
        else quietly(backend.put(key, record));
      }
    });
    const fail = (err: unknown): never => {
      this.failure ??= err instanceof Error ? err : new Error(String(err));
      throw err;
    };
    committed
      .then(() => {
        this.committing.splice(this.committing.indexOf(layer), 1);
      }, fail)
      .catch(() => undefined);
    this.lastDurable = durable.catch(fail);
    this.lastDurable.catch(() => undefined);
  }

  private checkUsable(): void {
    if (!this.opened) throw this.notOpen();
    if (this.failure !== undefined) {
      throw new Error(`${this.env.dataFile}: a backend commit failed, writes that had resolved are lost: ${this.failure.message}`);
    }
  }

  private notOpen(): Error {
    return new Error(`${this.env.dataFile}: the backend is not open`);
  }
}
