/**
 * The etcd v3 KV API as plain TypeScript values, field for field after etcd's rpc.proto and
 * kv.proto (snake_case fields become camelCase). Keys and values are bytes. Revisions, versions
 * and counts are numbers (exact below 2^53); lease IDs are int64 and so bigint.
 */

export interface ResponseHeader {
  readonly clusterId: bigint;
  readonly memberId: bigint;
  /** The store's revision when the request was applied or served. */
  readonly revision: number;
  readonly raftTerm: number;
}

export interface KeyValue {
  readonly key: Uint8Array;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  readonly value: Uint8Array;
  readonly lease: bigint;
}

export enum SortOrder {
  None = 0,
  Ascend = 1,
  Descend = 2,
}
export enum SortTarget {
  Key = 0,
  Version = 1,
  Create = 2,
  Mod = 3,
  Value = 4,
}

export interface RangeRequest {
  readonly key: Uint8Array;
  /** Empty: the single key. "\0": every key ≥ key. Otherwise the half-open range [key, rangeEnd). */
  readonly rangeEnd?: Uint8Array;
  readonly limit?: number;
  /** 0 or absent: the current revision. */
  readonly revision?: number;
  readonly sortOrder?: SortOrder;
  readonly sortTarget?: SortTarget;
  readonly serializable?: boolean;
  readonly keysOnly?: boolean;
  readonly countOnly?: boolean;
  readonly minModRevision?: number;
  readonly maxModRevision?: number;
  readonly minCreateRevision?: number;
  readonly maxCreateRevision?: number;
}

export interface RangeResponse {
  readonly header: ResponseHeader;
  readonly kvs: readonly KeyValue[];
  /** More keys matched than `limit` let through. */
  readonly more: boolean;
  /** How many keys matched (before limit). */
  readonly count: number;
}

export interface PutRequest {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly lease?: bigint;
  readonly prevKv?: boolean;
  readonly ignoreValue?: boolean;
  readonly ignoreLease?: boolean;
}

export interface PutResponse {
  readonly header: ResponseHeader;
  readonly prevKv?: KeyValue;
}

export interface DeleteRangeRequest {
  readonly key: Uint8Array;
  readonly rangeEnd?: Uint8Array;
  readonly prevKv?: boolean;
}

export interface DeleteRangeResponse {
  readonly header: ResponseHeader;
  readonly deleted: number;
  readonly prevKvs: readonly KeyValue[];
}

export enum CompareResult {
  Equal = 0,
  Greater = 1,
  Less = 2,
  NotEqual = 3,
}
export enum CompareTarget {
  Version = 0,
  Create = 1,
  Mod = 2,
  Value = 3,
  Lease = 4,
}

export type CompareOperand =
  | { readonly target: CompareTarget.Version; readonly version: number }
  | { readonly target: CompareTarget.Create; readonly createRevision: number }
  | { readonly target: CompareTarget.Mod; readonly modRevision: number }
  | { readonly target: CompareTarget.Value; readonly value: Uint8Array }
  | { readonly target: CompareTarget.Lease; readonly lease: bigint };

export type Compare = CompareOperand & {
  readonly result: CompareResult;
  readonly key: Uint8Array;
  readonly rangeEnd?: Uint8Array;
};

export type RequestOp =
  | { readonly requestRange: RangeRequest }
  | { readonly requestPut: PutRequest }
  | { readonly requestDeleteRange: DeleteRangeRequest }
  | { readonly requestTxn: TxnRequest };

export type ResponseOp =
  | { readonly responseRange: RangeResponse }
  | { readonly responsePut: PutResponse }
  | { readonly responseDeleteRange: DeleteRangeResponse }
  | { readonly responseTxn: TxnResponse };

export interface TxnRequest {
  readonly compare: readonly Compare[];
  readonly success: readonly RequestOp[];
  readonly failure: readonly RequestOp[];
}

export interface TxnResponse {
  readonly header: ResponseHeader;
  readonly succeeded: boolean;
  readonly responses: readonly ResponseOp[];
}

export interface CompactionRequest {
  readonly revision: number;
  /** Wait until the compaction is physically applied before answering. */
  readonly physical?: boolean;
}

export interface CompactionResponse {
  readonly header: ResponseHeader;
}
