import type { WireCompare, WireRequestOp, WireResponseOp, WireTxnRequest, WireTxnResponse } from '@cairn/core';
import { rangeEndOf, toBuffer, withRangeEnd, type Bytes } from '../bytes.js';
import type { CallOptions } from '../call-options.js';
import {
  deleteRequest,
  deleteResultFromWire,
  putRequest,
  putResultFromWire,
  rangeRequest,
  rangeResultFromWire,
  type DeleteRequestOptions,
  type KeyRangeOptions,
  type PutRequestOptions,
  type RangeRequestOptions,
} from './kv-requests.js';
import { headerFromWire, type DeleteResult, type PutResult, type RangeResult, type ResponseHeader } from './kv-types.js';

export type CompareOperator = '=' | '!=' | '<' | '>';

/** One condition of a transaction (build it with `Compare.value(…)` etc.). */
export interface Compare {
  readonly wire: WireCompare;
}

const RESULTS: Record<CompareOperator, number> = { '=': 0, '>': 1, '<': 2, '!=': 3 };

function compare(
  key: Bytes,
  operator: CompareOperator,
  target: number,
  field: 'version' | 'create_revision' | 'mod_revision' | 'value' | 'lease',
  operand: string | Buffer,
  range: KeyRangeOptions,
): Compare {
  if (!(operator in RESULTS)) throw new TypeError(`unknown compare operator ${String(operator)}`);
  const wire = { result: RESULTS[operator], target, key: toBuffer(key), target_union: field, [field]: operand } as Omit<WireCompare, 'range_end'>;
  return { wire: withRangeEnd<WireCompare>(wire, rangeEndOf(key, range)) };
}

/** Conditions on a key (or range: the last argument `{ end }` / `{ prefix: true }`). */
export const Compare = {
  version: (key: Bytes, operator: CompareOperator, version: bigint, range: KeyRangeOptions = {}): Compare =>
    compare(key, operator, 0, 'version', version.toString(), range),
  createRevision: (key: Bytes, operator: CompareOperator, revision: bigint, range: KeyRangeOptions = {}): Compare =>
    compare(key, operator, 1, 'create_revision', revision.toString(), range),
  modRevision: (key: Bytes, operator: CompareOperator, revision: bigint, range: KeyRangeOptions = {}): Compare =>
    compare(key, operator, 2, 'mod_revision', revision.toString(), range),
  value: (key: Bytes, operator: CompareOperator, value: Bytes, range: KeyRangeOptions = {}): Compare =>
    compare(key, operator, 3, 'value', toBuffer(value), range),
  lease: (key: Bytes, operator: CompareOperator, lease: bigint, range: KeyRangeOptions = {}): Compare =>
    compare(key, operator, 4, 'lease', lease.toString(), range),
};

/** One operation of a transaction (build it with `Op.put(…)` etc.). */
export interface Op {
  readonly wire: WireRequestOp;
}

/** A transaction's parts, for `Op.txn` (a `TxnBuilder` works too). */
export interface TxnSpec {
  readonly compare: readonly Compare[];
  readonly success: readonly Op[];
  readonly failure: readonly Op[];
}

export const Op = {
  get: (key: Bytes, options: RangeRequestOptions = {}): Op => ({ wire: { request: 'request_range', request_range: rangeRequest(key, options) } }),
  put: (key: Bytes, value: Bytes, options: PutRequestOptions = {}): Op => ({
    wire: { request: 'request_put', request_put: putRequest(key, value, options) },
  }),
  delete: (key: Bytes, options: DeleteRequestOptions = {}): Op => ({
    wire: { request: 'request_delete_range', request_delete_range: deleteRequest(key, options) },
  }),
  txn: (nested: TxnBuilder | TxnSpec): Op => ({
    wire: { request: 'request_txn', request_txn: txnRequest(nested instanceof TxnBuilder ? nested.spec() : nested) },
  }),
};

export function txnRequest(spec: TxnSpec): WireTxnRequest {
  return { compare: spec.compare.map((c) => c.wire), success: spec.success.map((o) => o.wire), failure: spec.failure.map((o) => o.wire) };
}

export type OpResult =
  { type: 'range'; result: RangeResult } | { type: 'put'; result: PutResult } | { type: 'delete'; result: DeleteResult } | { type: 'txn'; result: TxnResult };

export interface TxnResult {
  header: ResponseHeader;
  succeeded: boolean;
  responses: OpResult[];
}

function opResultFromWire(wire: WireResponseOp): OpResult {
  if (wire.response_range !== undefined && wire.response_range !== null) return { type: 'range', result: rangeResultFromWire(wire.response_range) };
  if (wire.response_put !== undefined && wire.response_put !== null) return { type: 'put', result: putResultFromWire(wire.response_put) };
  if (wire.response_delete_range !== undefined && wire.response_delete_range !== null)
    return { type: 'delete', result: deleteResultFromWire(wire.response_delete_range) };
  if (wire.response_txn !== undefined && wire.response_txn !== null) return { type: 'txn', result: txnResultFromWire(wire.response_txn) };
  throw new Error('a txn response op carries no response');
}

export function txnResultFromWire(wire: WireTxnResponse): TxnResult {
  return { header: headerFromWire(wire.header), succeeded: wire.succeeded === true, responses: (wire.responses ?? []).map(opResultFromWire) };
}

/**
 * `client.txn().if(…).then(…).else(…).commit()`. Each of `if`, `then`, `else` may be called more
 * than once; their arguments add up.
 */
export class TxnBuilder {
  private readonly compares: Compare[] = [];
  private readonly success: Op[] = [];
  private readonly failure: Op[] = [];

  constructor(private readonly committer?: (request: WireTxnRequest, options: CallOptions) => Promise<TxnResult>) {}

  if(...compares: Compare[]): this {
    this.compares.push(...compares);
    return this;
  }

  then(...ops: Op[]): this {
    // `then` makes the builder a thenable: `await builder` would call it with (resolve, reject)
    // and hang. Refuse that loudly instead.
    if (ops.some((op) => typeof op === 'function')) throw new TypeError('a transaction is not a promise: call .commit()');
    this.success.push(...ops);
    return this;
  }

  else(...ops: Op[]): this {
    this.failure.push(...ops);
    return this;
  }

  spec(): TxnSpec {
    return { compare: [...this.compares], success: [...this.success], failure: [...this.failure] };
  }

  commit(options: CallOptions = {}): Promise<TxnResult> {
    if (this.committer === undefined) throw new Error('this transaction is nested (Op.txn); commit the outer one');
    return this.committer(txnRequest(this.spec()), options);
  }
}

/** The type of a condition (`Compare.*` builds them). */
export type Comparison = Compare;
/** The type of an operation (`Op.*` builds them). */
export type Operation = Op;
