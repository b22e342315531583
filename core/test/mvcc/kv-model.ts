import { EtcdErrors } from '../../src/api/errors.js';
import {
  CompareResult,
  CompareTarget,
  SortOrder,
  SortTarget,
  type Compare,
  type DeleteRangeRequest,
  type PutRequest,
  type RangeRequest,
  type RequestOp,
  type TxnRequest,
} from '../../src/api/kv-types.js';

/** One write of one key, kept forever: the model never forgets, it only refuses old reads. */
interface Version {
  rev: number;
  key: string;
  tombstone: boolean;
  value: string;
  lease: bigint;
  create: number;
  version: number;
}

export interface ModelKv {
  key: string;
  value: string;
  create: number;
  mod: number;
  version: number;
  lease: bigint;
}
export type ModelRange = { kvs: ModelKv[]; more: boolean; count: number; revision: number };
export type ModelOp = { range: ModelRange } | { put: { prev?: ModelKv } } | { del: { deleted: number; prev: ModelKv[] } } | { txn: ModelTxn };
export interface ModelTxn {
  succeeded: boolean;
  responses: ModelOp[];
}

const str = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

/**
 * An obviously correct MVCC: a flat list of every write, searched linearly. Compaction only
 * moves the oldest readable revision; nothing is deleted, so every answer is computed from the
 * full history.
 */
export class KvModel {
  revision = 1;
  compacted = 0;
  private readonly history: Version[] = [];

  private live(key: string, rev: number): Version | undefined {
    let found: Version | undefined;
    for (const v of this.history) if (v.key === key && v.rev <= rev) found = v;
    return found?.tombstone === false ? found : undefined;
  }

  private keysIn(key: Uint8Array, end: Uint8Array | undefined): string[] {
    const start = str(key);
    const all = [...new Set(this.history.map((v) => v.key))].sort();
    if (end === undefined || end.length === 0) return all.filter((k) => k === start);
    if (end.length === 1 && end[0] === 0) return all.filter((k) => k >= start);
    return all.filter((k) => k >= start && k < str(end));
  }

  private kv(v: Version): ModelKv {
    return { key: v.key, value: v.value, create: v.create, mod: v.rev, version: v.version, lease: v.lease };
  }

  range(r: RangeRequest, current = this.revision): ModelRange {
    const rev = r.revision !== undefined && r.revision > 0 ? r.revision : current;
    if (rev > current) throw EtcdErrors.futureRevision();
    if (rev < this.compacted) throw EtcdErrors.compacted();
    const found = this.keysIn(r.key, r.rangeEnd)
      .map((k) => this.live(k, rev))
      .filter((v): v is Version => v !== undefined)
      .map((v) => this.kv(v));
    if (r.countOnly) return { kvs: [], more: false, count: found.length, revision: current };
    let kvs = found.filter(
      (kv) =>
        !(r.minModRevision && kv.mod < r.minModRevision) &&
        !(r.maxModRevision && kv.mod > r.maxModRevision) &&
        !(r.minCreateRevision && kv.create < r.minCreateRevision) &&
        !(r.maxCreateRevision && kv.create > r.maxCreateRevision),
    );
    const target = r.sortTarget ?? SortTarget.Key;
    const order = (r.sortOrder ?? SortOrder.None) === SortOrder.None && target !== SortTarget.Key ? SortOrder.Ascend : (r.sortOrder ?? SortOrder.None);
    if (order !== SortOrder.None) {
      const field = (kv: ModelKv): string | number =>
        target === SortTarget.Key
          ? kv.key
          : target === SortTarget.Version
            ? kv.version
            : target === SortTarget.Create
              ? kv.create
              : target === SortTarget.Mod
                ? kv.mod
                : kv.value;
      const cmp = (a: ModelKv, b: ModelKv): number => (field(a) < field(b) ? -1 : field(a) > field(b) ? 1 : 0);
      kvs = [...kvs].sort((a, b) => (order === SortOrder.Descend ? cmp(b, a) : cmp(a, b)));
    }
    const limit = r.limit ?? 0;
    const more = limit > 0 && kvs.length > limit;
    if (limit > 0) kvs = kvs.slice(0, limit);
    if (r.keysOnly) kvs = kvs.map((kv) => ({ ...kv, value: '' }));
    return { kvs, more, count: found.length, revision: current };
  }

  private compareHolds(c: Compare): boolean {
    const kvs = this.keysIn(c.key, c.rangeEnd)
      .map((k) => this.live(k, this.revision))
      .filter((v): v is Version => v !== undefined);
    const test = (actual: number | bigint | string, wanted: number | bigint | string): boolean => {
      const cmp = actual < wanted ? -1 : actual > wanted ? 1 : 0;
      return c.result === CompareResult.Equal
        ? cmp === 0
        : c.result === CompareResult.NotEqual
          ? cmp !== 0
          : c.result === CompareResult.Greater
            ? cmp > 0
            : cmp < 0;
    };
    const wanted = (): number | bigint | string =>
      c.target === CompareTarget.Version
        ? c.version
        : c.target === CompareTarget.Create
          ? c.createRevision
          : c.target === CompareTarget.Mod
            ? c.modRevision
            : c.target === CompareTarget.Lease
              ? c.lease
              : str(c.value);
    if (kvs.length === 0) return c.target !== CompareTarget.Value && test(c.target === CompareTarget.Lease ? 0n : 0, wanted());
    return kvs.every((v) =>
      test(
        c.target === CompareTarget.Version
          ? v.version
          : c.target === CompareTarget.Create
            ? v.create
            : c.target === CompareTarget.Mod
              ? v.rev
              : c.target === CompareTarget.Lease
                ? v.lease
                : v.value,
        wanted(),
      ),
    );
  }

  /** Apply one write request; `changed` says whether the revision moved. */
  put(r: PutRequest): { prev?: ModelKv } {
    return this.atomically(() => this.putIn(r, this.revision + 1));
  }

  del(r: DeleteRangeRequest): { deleted: number; prev: ModelKv[] } {
    return this.atomically(() => this.delIn(r, this.revision + 1));
  }

  txn(r: TxnRequest): ModelTxn {
    // Compares of every nested txn on the path see the state before the txn.
    const decided = new Map<TxnRequest, boolean>();
    const decide = (t: TxnRequest): void => {
      const ok = t.compare.every((c) => this.compareHolds(c));
      decided.set(t, ok);
      for (const op of ok ? t.success : t.failure) if ('requestTxn' in op) decide(op.requestTxn);
    };
    decide(r);
    const check = (t: TxnRequest): void => {
      for (const op of decided.get(t) ? t.success : t.failure) {
        if ('requestPut' in op && (op.requestPut.ignoreValue || op.requestPut.ignoreLease) && !this.live(str(op.requestPut.key), this.revision))
          throw EtcdErrors.keyNotFound();
        if ('requestPut' in op && !op.requestPut.ignoreLease && (op.requestPut.lease ?? 0n) !== 0n) throw EtcdErrors.leaseNotFound();
        if ('requestRange' in op && (op.requestRange.revision ?? 0) > this.revision) throw EtcdErrors.futureRevision();
        if ('requestRange' in op && (op.requestRange.revision ?? 0) > 0 && op.requestRange.revision! < this.compacted) throw EtcdErrors.compacted();
        if ('requestTxn' in op) check(op.requestTxn);
      }
    };
    check(r);
    return this.atomically(() => this.txnIn(r, decided, this.revision + 1));
  }

  compact(rev: number): void {
    if (rev <= this.compacted) throw EtcdErrors.compacted();
    if (rev > this.revision) throw EtcdErrors.futureRevision();
    this.compacted = rev;
  }

  private wrote = false;

  private atomically<T>(body: () => T): T {
    this.wrote = false;
    const out = body();
    if (this.wrote) this.revision++;
    return out;
  }

  private putIn(r: PutRequest, rev: number): { prev?: ModelKv } {
    const key = str(r.key);
    const prev = this.live(key, rev);
    if ((r.ignoreValue || r.ignoreLease) && prev === undefined) throw EtcdErrors.keyNotFound();
    if (!r.ignoreLease && (r.lease ?? 0n) !== 0n) throw EtcdErrors.leaseNotFound();
    this.history.push({
      rev,
      key,
      tombstone: false,
      value: r.ignoreValue ? prev!.value : str(r.value),
      lease: r.ignoreLease ? prev!.lease : (r.lease ?? 0n),
      create: prev?.create ?? rev,
      version: (prev?.version ?? 0) + 1,
    });
    this.wrote = true;
    return r.prevKv && prev ? { prev: this.kv(prev) } : {};
  }

  private delIn(r: DeleteRangeRequest, rev: number): { deleted: number; prev: ModelKv[] } {
    const victims = this.keysIn(r.key, r.rangeEnd)
      .map((k) => this.live(k, rev))
      .filter((v): v is Version => v !== undefined);
    for (const v of victims) this.history.push({ rev, key: v.key, tombstone: true, value: '', lease: 0n, create: 0, version: 0 });
    if (victims.length > 0) this.wrote = true;
    return { deleted: victims.length, prev: r.prevKv ? victims.map((v) => this.kv(v)) : [] };
  }

  private txnIn(t: TxnRequest, decided: Map<TxnRequest, boolean>, rev: number): ModelTxn {
    const succeeded = decided.get(t)!;
    const responses = (succeeded ? t.success : t.failure).map((op: RequestOp): ModelOp => {
      if ('requestRange' in op) return { range: this.range(op.requestRange, this.wrote ? rev : this.revision) };
      if ('requestPut' in op) return { put: this.putIn(op.requestPut, rev) };
      if ('requestDeleteRange' in op) return { del: this.delIn(op.requestDeleteRange, rev) };
      return { txn: this.txnIn(op.requestTxn, decided, rev) };
    });
    return { succeeded, responses };
  }
}
