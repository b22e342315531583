import type {
  Compare,
  CompactionRequest,
  DeleteRangeRequest,
  DeleteRangeResponse,
  KeyValue,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseHeader,
  ResponseOp,
  TxnRequest,
  TxnResponse,
} from '../api/kv-types.js';
import { CompareTarget } from '../api/kv-types.js';
import { EtcdError, GrpcCode } from '../api/errors.js';
import type {
  WireCompactionRequest,
  WireCompare,
  WireDeleteRangeRequest,
  WireDeleteRangeResponse,
  WireKeyValue,
  WirePutRequest,
  WirePutResponse,
  WireRangeRequest,
  WireRangeResponse,
  WireRequestOp,
  WireResponseHeader,
  WireResponseOp,
  WireTxnRequest,
  WireTxnResponse,
} from './wire-types.js';

/*
 * Conversions between etcd's KV messages on the wire and the core's KV types. Absent optional
 * fields stay absent (proto3 defaults mean "not given"), so services see exactly what was asked.
 */

const EMPTY = new Uint8Array(0);

/** An int64 decimal string as a number (revisions, counts: exact below 2^53). */
const int = (wire: string | undefined): number => (wire === undefined || wire === '' ? 0 : Number(wire));

/** A field worth passing on: not the proto3 default. */
const given = (n: number): number | undefined => (n === 0 ? undefined : n);
const givenBytes = (b: Buffer | undefined): Uint8Array | undefined => (b === undefined || b.length === 0 ? undefined : b);

export function headerToWire(header: ResponseHeader): WireResponseHeader {
  return {
    cluster_id: header.clusterId.toString(),
    member_id: header.memberId.toString(),
    revision: header.revision,
    raft_term: header.raftTerm,
  };
}

export function keyValueToWire(kv: KeyValue): WireKeyValue {
  return {
    key: kv.key,
    create_revision: kv.createRevision,
    mod_revision: kv.modRevision,
    version: kv.version,
    value: kv.value ?? EMPTY,
    lease: kv.lease === 0n ? 0 : kv.lease.toString(),
  };
}

export function rangeRequestFromWire(wire: WireRangeRequest): RangeRequest {
  const request: { -readonly [K in keyof RangeRequest]: RangeRequest[K] } = { key: wire.key };
  const rangeEnd = givenBytes(wire.range_end);
  if (rangeEnd !== undefined) request.rangeEnd = rangeEnd;
  const limit = given(int(wire.limit));
  if (limit !== undefined) request.limit = limit;
  const revision = given(int(wire.revision));
  if (revision !== undefined) request.revision = revision;
  if (wire.sort_order !== 0) request.sortOrder = wire.sort_order;
  if (wire.sort_target !== 0) request.sortTarget = wire.sort_target;
  if (wire.serializable) request.serializable = true;
  if (wire.keys_only) request.keysOnly = true;
  if (wire.count_only) request.countOnly = true;
  const minMod = given(int(wire.min_mod_revision));
  if (minMod !== undefined) request.minModRevision = minMod;
  const maxMod = given(int(wire.max_mod_revision));
  if (maxMod !== undefined) request.maxModRevision = maxMod;
  const minCreate = given(int(wire.min_create_revision));
  if (minCreate !== undefined) request.minCreateRevision = minCreate;
  const maxCreate = given(int(wire.max_create_revision));
  if (maxCreate !== undefined) request.maxCreateRevision = maxCreate;
  return request;
}

export function rangeResponseToWire(response: RangeResponse): WireRangeResponse {
  return {
    header: headerToWire(response.header),
    kvs: response.kvs.map(keyValueToWire),
    more: response.more,
    count: response.count,
  };
}

export function putRequestFromWire(wire: WirePutRequest): PutRequest {
  const request: { -readonly [K in keyof PutRequest]: PutRequest[K] } = { key: wire.key, value: wire.value };
  const lease = wire.lease === '' || wire.lease === '0' ? 0n : BigInt(wire.lease);
  if (lease !== 0n) request.lease = lease;
  if (wire.prev_kv) request.prevKv = true;
  if (wire.ignore_value) request.ignoreValue = true;
  if (wire.ignore_lease) request.ignoreLease = true;
  return request;
}

export function putResponseToWire(response: PutResponse): WirePutResponse {
  const wire: WirePutResponse = { header: headerToWire(response.header) };
  if (response.prevKv !== undefined) wire.prev_kv = keyValueToWire(response.prevKv);
  return wire;
}

export function deleteRangeRequestFromWire(wire: WireDeleteRangeRequest): DeleteRangeRequest {
  const request: { -readonly [K in keyof DeleteRangeRequest]: DeleteRangeRequest[K] } = { key: wire.key };
  const rangeEnd = givenBytes(wire.range_end);
  if (rangeEnd !== undefined) request.rangeEnd = rangeEnd;
  if (wire.prev_kv) request.prevKv = true;
  return request;
}

export function deleteRangeResponseToWire(response: DeleteRangeResponse): WireDeleteRangeResponse {
  return {
    header: headerToWire(response.header),
    deleted: response.deleted,
    prev_kvs: response.prevKvs.map(keyValueToWire),
  };
}

/** The operand of a comparison is the union member its target names; absent, the proto3 default. */
export function compareFromWire(wire: WireCompare): Compare {
  const head = { result: wire.result, key: wire.key, ...(wire.range_end.length > 0 ? { rangeEnd: wire.range_end } : {}) };
  switch (wire.target) {
    case CompareTarget.Version:
      return { ...head, target: CompareTarget.Version, version: int(wire.version) };
    case CompareTarget.Create:
      return { ...head, target: CompareTarget.Create, createRevision: int(wire.create_revision) };
    case CompareTarget.Mod:
      return { ...head, target: CompareTarget.Mod, modRevision: int(wire.mod_revision) };
    case CompareTarget.Value:
      return { ...head, target: CompareTarget.Value, value: wire.value ?? EMPTY };
    case CompareTarget.Lease:
      return { ...head, target: CompareTarget.Lease, lease: BigInt(wire.lease === undefined || wire.lease === '' ? 0 : wire.lease) };
    default:
      throw new RangeError(`unknown compare target ${wire.target}`);
  }
}

function requestOpFromWire(wire: WireRequestOp): RequestOp {
  switch (wire.request) {
    case 'request_range':
      return { requestRange: rangeRequestFromWire(wire.request_range!) };
    case 'request_put':
      return { requestPut: putRequestFromWire(wire.request_put!) };
    case 'request_delete_range':
      return { requestDeleteRange: deleteRangeRequestFromWire(wire.request_delete_range!) };
    case 'request_txn':
      return { requestTxn: txnRequestFromWire(wire.request_txn!) };
    // etcd answers an op with nothing set with an empty response op; the core's types have no such op.
    default:
      throw new EtcdError(GrpcCode.InvalidArgument, 'etcdserver: txn request op has no request set');
  }
}

export function txnRequestFromWire(wire: WireTxnRequest): TxnRequest {
  return {
    compare: wire.compare.map(compareFromWire),
    success: wire.success.map(requestOpFromWire),
    failure: wire.failure.map(requestOpFromWire),
  };
}

function responseOpToWire(op: ResponseOp): WireResponseOp {
  if ('responseRange' in op) return { response_range: rangeResponseToWire(op.responseRange) };
  if ('responsePut' in op) return { response_put: putResponseToWire(op.responsePut) };
  if ('responseDeleteRange' in op) return { response_delete_range: deleteRangeResponseToWire(op.responseDeleteRange) };
  return { response_txn: txnResponseToWire(op.responseTxn) };
}

export function txnResponseToWire(response: TxnResponse): WireTxnResponse {
  return {
    header: headerToWire(response.header),
    succeeded: response.succeeded,
    responses: response.responses.map(responseOpToWire),
  };
}

export function compactionRequestFromWire(wire: WireCompactionRequest): CompactionRequest {
  return wire.physical ? { revision: int(wire.revision), physical: true } : { revision: int(wire.revision) };
}
