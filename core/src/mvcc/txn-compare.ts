import { CompareResult, CompareTarget, type Compare, type TxnRequest } from '../api/kv-types.js';
import { keyInterval } from '../api/key-interval.js';
import type { IndexedRevision } from './key-index.js';
import type { MvccReads } from './mvcc-reads.js';
import type { MvccState } from './mvcc-state.js';
import { revisionKeyString } from './revision-key.js';

/**
 * A txn's compares, judged as etcd does against the state before the txn. They run synchronously
 * inside the apply, so the values that value compares look at are read beforehand.
 */
export class TxnCompares {
  private readonly values = new Map<string, Uint8Array>();

  constructor(
    private readonly state: MvccState,
    private readonly reads: MvccReads,
  ) {}

  /** Load the values that the txn's value compares will look at. */
  async prefetchValues(r: TxnRequest): Promise<void> {
    const visit = async (t: TxnRequest): Promise<void> => {
      for (const c of t.compare) {
        if (c.target !== CompareTarget.Value) continue;
        const { start, end } = keyInterval(c.key, c.rangeEnd);
        for (const key of this.state.index.keysInRange(start, end)) {
          const at = this.state.index.liveAt(key, this.state.revision);
          if (at !== undefined) this.values.set(revisionKeyString(at), (await this.reads.readRecord(at, undefined)).value);
        }
      }
      for (const op of [...t.success, ...t.failure]) if ('requestTxn' in op) await visit(op.requestTxn);
    };
    await visit(r);
  }

  /** Forget the prefetched values (once the txn is applied). */
  clear(): void {
    this.values.clear();
  }

  /** The outcome of every compare on the path the txn will take, in pre-order. */
  path(r: TxnRequest): boolean[] {
    const succeeded = r.compare.every((c) => this.holds(c));
    const path = [succeeded];
    for (const op of succeeded ? r.success : r.failure) {
      if ('requestTxn' in op) path.push(...this.path(op.requestTxn));
    }
    return path;
  }

  private holds(c: Compare): boolean {
    const { start, end } = keyInterval(c.key, c.rangeEnd);
    const live: IndexedRevision[] = [];
    for (const key of this.state.index.keysInRange(start, end)) {
      const at = this.state.index.liveAt(key, this.state.revision);
      if (at !== undefined) live.push(at);
    }
    if (live.length === 0) {
      // A missing key has version, create, mod and lease 0, but no value to compare.
      if (c.target === CompareTarget.Value) return false;
      return resultHolds(compareNumbers(0, operandNumber(c)), c.result);
    }
    return live.every((at) => {
      if (c.target === CompareTarget.Value) {
        const stored = this.valueOf(at);
        return resultHolds(Buffer.compare(stored, c.value), c.result);
      }
      const actual =
        c.target === CompareTarget.Version
          ? at.version
          : c.target === CompareTarget.Create
            ? at.createRevision
            : c.target === CompareTarget.Mod
              ? at.main
              : at.lease;
      return resultHolds(compareNumbers(actual, operandNumber(c)), c.result);
    });
  }

  private valueOf(at: IndexedRevision): Uint8Array {
    const cached = this.values.get(revisionKeyString(at));
    if (cached === undefined) throw new Error(`value of revision ${at.main}.${at.sub} was not prefetched`);
    return cached;
  }
}

function operandNumber(c: Compare): number | bigint {
  switch (c.target) {
    case CompareTarget.Version:
      return c.version;
    case CompareTarget.Create:
      return c.createRevision;
    case CompareTarget.Mod:
      return c.modRevision;
    case CompareTarget.Lease:
      return c.lease;
    default:
      return 0;
  }
}

function compareNumbers(a: number | bigint, b: number | bigint): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function resultHolds(cmp: number, result: CompareResult): boolean {
  switch (result) {
    case CompareResult.Equal:
      return cmp === 0;
    case CompareResult.NotEqual:
      return cmp !== 0;
    case CompareResult.Greater:
      return cmp > 0;
    case CompareResult.Less:
      return cmp < 0;
    default:
      return false;
  }
}
