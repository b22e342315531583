import { keyInterval, intervalContains, type KeyInterval } from './key-interval.js';
import { EtcdErrors } from './errors.js';
import type { DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from './kv-types.js';

/** The checks etcd's gRPC layer makes before a request reaches Raft; each throws etcd's error. */

export function checkRange(r: RangeRequest): void {
  if (r.key.length === 0) throw EtcdErrors.emptyKey();
}

export function checkPut(r: PutRequest): void {
  if (r.key.length === 0) throw EtcdErrors.emptyKey();
  if (r.ignoreValue === true && r.value.length !== 0) throw EtcdErrors.valueProvided();
  if (r.ignoreLease === true && (r.lease ?? 0n) !== 0n) throw EtcdErrors.leaseProvided();
}

export function checkDeleteRange(r: DeleteRangeRequest): void {
  if (r.key.length === 0) throw EtcdErrors.emptyKey();
}

/** Op counts (nested txns share the budget), empty keys, then duplicate keys per branch. */
export function checkTxn(r: TxnRequest, maxTxnOps: number): void {
  checkTxnShape(r, maxTxnOps);
  writesOf(r.success);
  writesOf(r.failure);
}

function checkTxnShape(r: TxnRequest, maxTxnOps: number): void {
  const ops = Math.max(r.compare.length, r.success.length, r.failure.length);
  if (ops > maxTxnOps) throw EtcdErrors.tooManyOps();
  for (const c of r.compare) if (c.key.length === 0) throw EtcdErrors.emptyKey();
  for (const op of [...r.success, ...r.failure]) checkOp(op, maxTxnOps - ops);
}

function checkOp(op: RequestOp, maxTxnOps: number): void {
  if ('requestRange' in op) checkRange(op.requestRange);
  else if ('requestPut' in op) checkPut(op.requestPut);
  else if ('requestDeleteRange' in op) checkDeleteRange(op.requestDeleteRange);
  else checkTxnShape(op.requestTxn, maxTxnOps);
}

/**
 * The keys a branch puts and the ranges it deletes; a key written twice on one path (two puts,
 * or a put inside a deleted range) is etcd's "duplicate key" error. The two branches of a nested
 * txn may put the same key, since only one of them runs.
 */
function writesOf(ops: readonly RequestOp[]): { puts: Set<string>; dels: KeyInterval[] } {
  const dels: KeyInterval[] = [];
  for (const op of ops) if ('requestDeleteRange' in op) dels.push(keyInterval(op.requestDeleteRange.key, op.requestDeleteRange.rangeEnd));
  const deleted = (key: string): boolean => dels.some((d) => intervalContains(d, key));
  const puts = new Set<string>();
  for (const op of ops) {
    if (!('requestTxn' in op)) continue;
    const then = writesOf(op.requestTxn.success);
    const otherwise = writesOf(op.requestTxn.failure);
    for (const k of then.puts) {
      if (puts.has(k) || deleted(k)) throw EtcdErrors.duplicateKey();
      puts.add(k);
    }
    for (const k of otherwise.puts) {
      if ((puts.has(k) && !then.puts.has(k)) || deleted(k)) throw EtcdErrors.duplicateKey();
      puts.add(k);
    }
    dels.push(...then.dels, ...otherwise.dels);
  }
  for (const op of ops) {
    if (!('requestPut' in op)) continue;
    const k = Buffer.from(op.requestPut.key).toString('latin1');
    if (puts.has(k) || deleted(k)) throw EtcdErrors.duplicateKey();
    puts.add(k);
  }
  return { puts, dels };
}
