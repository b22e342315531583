import type { WireDeleteRangeRequest, WireDeleteRangeResponse, WirePutRequest, WirePutResponse, WireRangeRequest, WireRangeResponse } from '@cairn/core';
import { rangeEndOf, toBuffer, withRangeEnd, type Bytes } from '../bytes.js';
import type { CallOptions } from '../call-options.js';
import { headerFromWire, int64, keyValueFromWire, type DeleteResult, type PutResult, type RangeResult } from './kv-types.js';

export type SortTarget = 'key' | 'version' | 'create' | 'mod' | 'value';
export type SortOrder = 'ascend' | 'descend';

/** Which keys: the key alone, `[key, end)`, or every key with the prefix `key`. */
export interface KeyRangeOptions {
  end?: Bytes;
  prefix?: boolean;
}

export interface RangeRequestOptions extends KeyRangeOptions {
  limit?: number | bigint;
  /** Read at this revision (0n/absent: the newest). */
  revision?: bigint;
  /** Served by the member alone, without a round of consensus (may be stale). */
  serializable?: boolean;
  keysOnly?: boolean;
  countOnly?: boolean;
  sort?: { target: SortTarget; order: SortOrder };
  minModRevision?: bigint;
  maxModRevision?: bigint;
  minCreateRevision?: bigint;
  maxCreateRevision?: bigint;
}
export interface RangeOptions extends RangeRequestOptions, CallOptions {}
export type GetOptions = Omit<RangeOptions, 'end' | 'prefix' | 'limit' | 'countOnly'>;
export interface IterateOptions extends Omit<RangeOptions, 'limit' | 'sort' | 'countOnly'> {
  /** Keys per request (default 1000). */
  pageSize?: number;
}

export interface PutRequestOptions {
  lease?: bigint;
  prevKv?: boolean;
  ignoreValue?: boolean;
  ignoreLease?: boolean;
}
export interface PutOptions extends PutRequestOptions, CallOptions {}

export interface DeleteRequestOptions extends KeyRangeOptions {
  prevKv?: boolean;
}
export interface DeleteOptions extends DeleteRequestOptions, CallOptions {}

const SORT_TARGETS: Record<SortTarget, number> = { key: 0, version: 1, create: 2, mod: 3, value: 4 };
const SORT_ORDERS: Record<SortOrder, number> = { ascend: 1, descend: 2 };
const str = (value: bigint | number | undefined): string => (value === undefined ? '0' : value.toString());

export function rangeRequest(key: Bytes, options: RangeRequestOptions = {}): WireRangeRequest {
  const request: Omit<WireRangeRequest, 'range_end'> = {
    key: toBuffer(key),
    limit: str(options.limit),
    revision: str(options.revision),
    sort_order: options.sort === undefined ? 0 : SORT_ORDERS[options.sort.order],
    sort_target: options.sort === undefined ? 0 : SORT_TARGETS[options.sort.target],
    serializable: options.serializable ?? false,
    keys_only: options.keysOnly ?? false,
    count_only: options.countOnly ?? false,
    min_mod_revision: str(options.minModRevision),
    max_mod_revision: str(options.maxModRevision),
    min_create_revision: str(options.minCreateRevision),
    max_create_revision: str(options.maxCreateRevision),
  };
  return withRangeEnd<WireRangeRequest>(request, rangeEndOf(key, options));
}

export function putRequest(key: Bytes, value: Bytes, options: PutRequestOptions = {}): WirePutRequest {
  return {
    key: toBuffer(key),
    value: toBuffer(value),
    lease: str(options.lease),
    prev_kv: options.prevKv ?? false,
    ignore_value: options.ignoreValue ?? false,
    ignore_lease: options.ignoreLease ?? false,
  };
}

export function deleteRequest(key: Bytes, options: DeleteRequestOptions = {}): WireDeleteRangeRequest {
  return withRangeEnd<WireDeleteRangeRequest>({ key: toBuffer(key), prev_kv: options.prevKv ?? false }, rangeEndOf(key, options));
}

export function rangeResultFromWire(wire: WireRangeResponse): RangeResult {
  return { header: headerFromWire(wire.header), kvs: (wire.kvs ?? []).map(keyValueFromWire), more: wire.more === true, count: int64(wire.count) };
}

export function putResultFromWire(wire: WirePutResponse): PutResult {
  const result: PutResult = { header: headerFromWire(wire.header) };
  if (wire.prev_kv !== undefined && wire.prev_kv !== null) result.prevKv = keyValueFromWire(wire.prev_kv);
  return result;
}

export function deleteResultFromWire(wire: WireDeleteRangeResponse): DeleteResult {
  return { header: headerFromWire(wire.header), deleted: int64(wire.deleted), prevKvs: (wire.prev_kvs ?? []).map(keyValueFromWire) };
}
