import type { Compare, CompactionRequest, DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from '../api/kv-types.js';
import type { ProtoReader } from './proto-reader.js';
import type { ProtoWriter } from './proto-writer.js';

/*
 * etcd's KV request messages in protobuf, with rpc.proto's field numbers, for committed commands.
 * Unlike the gRPC codec, every field the request holds is written, defaults included, and only
 * those are read back: a request decodes to exactly the object that was encoded. Any protobuf
 * reader of rpc.proto reads these bytes too.
 */

const EMPTY = new Uint8Array(0);
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function writePutRequest(w: ProtoWriter, r: PutRequest): void {
  w.bytes(1, r.key).bytes(2, r.value);
  if (r.lease !== undefined) w.int64(3, r.lease);
  if (r.prevKv !== undefined) w.bool(4, r.prevKv);
  if (r.ignoreValue !== undefined) w.bool(5, r.ignoreValue);
  if (r.ignoreLease !== undefined) w.bool(6, r.ignoreLease);
}

export function readPutRequest(r: ProtoReader): PutRequest {
  const out: Mutable<PutRequest> = { key: EMPTY, value: EMPTY };
  for (let field = r.next(); field !== 0; field = r.next()) {
    if (field === 1) out.key = r.bytesField();
    else if (field === 2) out.value = r.bytesField();
    else if (field === 3) out.lease = r.int64();
    else if (field === 4) out.prevKv = r.bool();
    else if (field === 5) out.ignoreValue = r.bool();
    else if (field === 6) out.ignoreLease = r.bool();
    else r.skip();
  }
  return out;
}

export function writeDeleteRangeRequest(w: ProtoWriter, r: DeleteRangeRequest): void {
  w.bytes(1, r.key);
  if (r.rangeEnd !== undefined) w.bytes(2, r.rangeEnd);
  if (r.prevKv !== undefined) w.bool(3, r.prevKv);
}

export function readDeleteRangeRequest(r: ProtoReader): DeleteRangeRequest {
  const out: Mutable<DeleteRangeRequest> = { key: EMPTY };
  for (let field = r.next(); field !== 0; field = r.next()) {
    if (field === 1) out.key = r.bytesField();
    else if (field === 2) out.rangeEnd = r.bytesField();
    else if (field === 3) out.prevKv = r.bool();
    else r.skip();
  }
  return out;
}

/** RangeRequest's optional numbers by field number (rpc.proto 3, 4, 10–13), the enums and flags 5–9. */
const RANGE_NUMBERS = [
  [3, 'limit'],
  [4, 'revision'],
  [10, 'minModRevision'],
  [11, 'maxModRevision'],
  [12, 'minCreateRevision'],
  [13, 'maxCreateRevision'],
  [5, 'sortOrder'],
  [6, 'sortTarget'],
] as const;
const RANGE_FLAGS = [
  [7, 'serializable'],
  [8, 'keysOnly'],
  [9, 'countOnly'],
] as const;

export function writeRangeRequest(w: ProtoWriter, r: RangeRequest): void {
  w.bytes(1, r.key);
  if (r.rangeEnd !== undefined) w.bytes(2, r.rangeEnd);
  for (const [field, name] of RANGE_NUMBERS) {
    const value = r[name];
    if (value !== undefined) w.number(field, value);
  }
  for (const [field, name] of RANGE_FLAGS) {
    const value = r[name];
    if (value !== undefined) w.bool(field, value);
  }
}

export function readRangeRequest(r: ProtoReader): RangeRequest {
  const out: Mutable<RangeRequest> = { key: EMPTY };
  for (let field = r.next(); field !== 0; field = r.next()) {
    if (field === 1) out.key = r.bytesField();
    else if (field === 2) out.rangeEnd = r.bytesField();
    else {
      const number = RANGE_NUMBERS.find(([f]) => f === field);
      const flag = RANGE_FLAGS.find(([f]) => f === field);
      if (number !== undefined) (out as Record<string, unknown>)[number[1]] = r.number();
      else if (flag !== undefined) (out as Record<string, unknown>)[flag[1]] = r.bool();
      else r.skip();
    }
  }
  return out;
}

export function writeCompare(w: ProtoWriter, c: Compare): void {
  w.number(1, c.result).number(2, c.target).bytes(3, c.key);
  // The target_union: whichever operands the compare holds (one, for a well-formed compare).
  const operands = c as Partial<{ version: number; createRevision: number; modRevision: number; value: Uint8Array; lease: bigint }>;
  if (operands.version !== undefined) w.number(4, operands.version);
  if (operands.createRevision !== undefined) w.number(5, operands.createRevision);
  if (operands.modRevision !== undefined) w.number(6, operands.modRevision);
  if (operands.value !== undefined) w.bytes(7, operands.value);
  if (operands.lease !== undefined) w.int64(8, operands.lease);
  if (c.rangeEnd !== undefined) w.bytes(64, c.rangeEnd);
}

export function readCompare(r: ProtoReader): Compare {
  const out: Record<string, unknown> = { result: 0, target: 0, key: EMPTY };
  for (let field = r.next(); field !== 0; field = r.next()) {
    if (field === 1) out.result = r.number();
    else if (field === 2) out.target = r.number();
    else if (field === 3) out.key = r.bytesField();
    else if (field === 4) out.version = r.number();
    else if (field === 5) out.createRevision = r.number();
    else if (field === 6) out.modRevision = r.number();
    else if (field === 7) out.value = r.bytesField();
    else if (field === 8) out.lease = r.int64();
    else if (field === 64) out.rangeEnd = r.bytesField();
    else r.skip();
  }
  return out as unknown as Compare;
}

export function writeRequestOp(w: ProtoWriter, op: RequestOp): void {
  if ('requestRange' in op) w.message(1, (m) => writeRangeRequest(m, op.requestRange));
  else if ('requestPut' in op) w.message(2, (m) => writePutRequest(m, op.requestPut));
  else if ('requestDeleteRange' in op) w.message(3, (m) => writeDeleteRangeRequest(m, op.requestDeleteRange));
  else w.message(4, (m) => writeTxnRequest(m, op.requestTxn));
}

export function readRequestOp(r: ProtoReader): RequestOp {
  let op: RequestOp | undefined;
  for (let field = r.next(); field !== 0; field = r.next()) {
    if (field === 1) op = { requestRange: readRangeRequest(r.message()) };
    else if (field === 2) op = { requestPut: readPutRequest(r.message()) };
    else if (field === 3) op = { requestDeleteRange: readDeleteRangeRequest(r.message()) };
    else if (field === 4) op = { requestTxn: readTxnRequest(r.message()) };
    else r.skip();
  }
  if (op === undefined) throw new Error('a txn operation with no request');
  return op;
}

export function writeTxnRequest(w: ProtoWriter, t: TxnRequest): void {
  for (const c of t.compare) w.message(1, (m) => writeCompare(m, c));
  for (const op of t.success) w.message(2, (m) => writeRequestOp(m, op));
  for (const op of t.failure) w.message(3, (m) => writeRequestOp(m, op));
}

export function readTxnRequest(r: ProtoReader): TxnRequest {
  const compare: Compare[] = [];
  const success: RequestOp[] = [];
  const failure: RequestOp[] = [];
  for (let field = r.next(); field !== 0; field = r.next()) {
    if (field === 1) compare.push(readCompare(r.message()));
    else if (field === 2) success.push(readRequestOp(r.message()));
    else if (field === 3) failure.push(readRequestOp(r.message()));
    else r.skip();
  }
  return { compare, success, failure };
}

export function writeCompactionRequest(w: ProtoWriter, c: CompactionRequest): void {
  w.number(1, c.revision);
  if (c.physical !== undefined) w.bool(2, c.physical);
}

export function readCompactionRequest(r: ProtoReader): CompactionRequest {
  const out: Mutable<CompactionRequest> = { revision: 0 };
  for (let field = r.next(); field !== 0; field = r.next()) {
    if (field === 1) out.revision = r.number();
    else if (field === 2) out.physical = r.bool();
    else r.skip();
  }
  return out;
}
