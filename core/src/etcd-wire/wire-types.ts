/**
 * etcd's messages as plain objects, the shape every frontend decodes them into and encodes them
 * from: proto field names, int64/uint64 as decimal strings on the way in (numbers or strings on
 * the way out), bytes as Buffers, enums as numbers, absent fields as their proto3 defaults
 * (messages null), and the name of the set member of each oneof as a virtual field. It is the
 * shape @grpc/proto-loader gives with keepCase, longs String, enums Number, bytes Buffer,
 * defaults and oneofs; the JSON gateway's codec produces the same.
 */

/** A 64-bit integer on the way out: a number when exact, a decimal string otherwise. */
export type WireInt64 = number | string;

export interface WireResponseHeader {
  cluster_id: string;
  member_id: string;
  revision: WireInt64;
  raft_term: WireInt64;
}

export interface WireKeyValue {
  key: Uint8Array;
  create_revision: WireInt64;
  mod_revision: WireInt64;
  version: WireInt64;
  value: Uint8Array;
  lease: WireInt64;
}

export interface WireRangeRequest {
  key: Buffer;
  range_end: Buffer;
  limit: string;
  revision: string;
  sort_order: number;
  sort_target: number;
  serializable: boolean;
  keys_only: boolean;
  count_only: boolean;
  min_mod_revision: string;
  max_mod_revision: string;
  min_create_revision: string;
  max_create_revision: string;
}

export interface WireRangeResponse {
  header: WireResponseHeader;
  kvs: WireKeyValue[];
  more: boolean;
  count: WireInt64;
}

export interface WirePutRequest {
  key: Buffer;
  value: Buffer;
  lease: string;
  prev_kv: boolean;
  ignore_value: boolean;
  ignore_lease: boolean;
}

export interface WirePutResponse {
  header: WireResponseHeader;
  prev_kv?: WireKeyValue;
}

export interface WireDeleteRangeRequest {
  key: Buffer;
  range_end: Buffer;
  prev_kv: boolean;
}

export interface WireDeleteRangeResponse {
  header: WireResponseHeader;
  deleted: WireInt64;
  prev_kvs: WireKeyValue[];
}

export interface WireRequestOp {
  request?: 'request_range' | 'request_put' | 'request_delete_range' | 'request_txn';
  request_range?: WireRangeRequest;
  request_put?: WirePutRequest;
  request_delete_range?: WireDeleteRangeRequest;
  request_txn?: WireTxnRequest;
}

export interface WireResponseOp {
  response_range?: WireRangeResponse;
  response_put?: WirePutResponse;
  response_delete_range?: WireDeleteRangeResponse;
  response_txn?: WireTxnResponse;
}

export interface WireCompare {
  result: number;
  target: number;
  key: Buffer;
  target_union?: 'version' | 'create_revision' | 'mod_revision' | 'value' | 'lease';
  version?: string;
  create_revision?: string;
  mod_revision?: string;
  value?: Buffer;
  lease?: string;
  range_end: Buffer;
}

export interface WireTxnRequest {
  compare: WireCompare[];
  success: WireRequestOp[];
  failure: WireRequestOp[];
}

export interface WireTxnResponse {
  header: WireResponseHeader;
  succeeded: boolean;
  responses: WireResponseOp[];
}

export interface WireCompactionRequest {
  revision: string;
  physical: boolean;
}

export interface WireHeaderOnlyResponse {
  header: WireResponseHeader;
}

export interface WireMember {
  ID: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export interface WireMemberListRequest {
  linearizable: boolean;
}
export interface WireMemberAddRequest {
  peerURLs: string[];
  isLearner: boolean;
}
export interface WireMemberIdRequest {
  ID: string;
}
export interface WireMemberUpdateRequest {
  ID: string;
  peerURLs: string[];
}

export interface WireMembersResponse {
  header: WireResponseHeader;
  member?: WireMember;
  members: WireMember[];
}

export interface WireStatusResponse {
  header: WireResponseHeader;
  version: string;
  dbSize: WireInt64;
  leader: string;
  raftIndex: WireInt64;
  raftTerm: WireInt64;
  raftAppliedIndex: WireInt64;
  errors: string[];
  dbSizeInUse: WireInt64;
  isLearner: boolean;
}

export interface WireHashKvRequest {
  revision: string;
}

export interface WireHashKvResponse {
  header: WireResponseHeader;
  hash: number;
  compact_revision: WireInt64;
  hash_revision: WireInt64;
}

export interface WireHashResponse {
  header: WireResponseHeader;
  hash: number;
}

export interface WireAlarmRequest {
  action: number;
  memberID: string;
  alarm: number;
}
export interface WireAlarmMember {
  memberID: string;
  alarm: number;
}
export interface WireAlarmResponse {
  header: WireResponseHeader;
  alarms: WireAlarmMember[];
}

export interface WireMoveLeaderRequest {
  targetID: string;
}

export interface WireSnapshotResponse {
  header: WireResponseHeader;
  remaining_bytes: WireInt64;
  blob: Uint8Array;
}

/** A request message with no fields. */
export type WireEmpty = Record<string, never>;
