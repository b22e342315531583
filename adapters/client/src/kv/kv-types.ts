import type { WireKeyValue, WireResponseHeader } from '@cairn/core';

export interface ResponseHeader {
  clusterId: bigint;
  memberId: bigint;
  revision: bigint;
  raftTerm: bigint;
}

export interface KeyValue {
  key: Buffer;
  value: Buffer;
  createRevision: bigint;
  modRevision: bigint;
  version: bigint;
  lease: bigint;
}

export interface RangeResult {
  header: ResponseHeader;
  kvs: KeyValue[];
  more: boolean;
  count: bigint;
}

export interface PutResult {
  header: ResponseHeader;
  prevKv?: KeyValue;
}

export interface DeleteResult {
  header: ResponseHeader;
  deleted: bigint;
  prevKvs: KeyValue[];
}

/** A 64-bit integer of a response (a decimal string or an exact number) as a bigint; absent is 0. */
export function int64(value: string | number | undefined | null): bigint {
  if (value === undefined || value === null || value === '') return 0n;
  return BigInt(value);
}

/** A bytes field as a Buffer sharing its memory. */
export function bufferOf(bytes: Uint8Array | undefined | null): Buffer {
  if (bytes === undefined || bytes === null) return Buffer.alloc(0);
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

export function headerFromWire(header: WireResponseHeader | undefined | null): ResponseHeader {
  return {
    clusterId: int64(header?.cluster_id),
    memberId: int64(header?.member_id),
    revision: int64(header?.revision),
    raftTerm: int64(header?.raft_term),
  };
}

export function keyValueFromWire(kv: WireKeyValue): KeyValue {
  return {
    key: bufferOf(kv.key),
    value: bufferOf(kv.value),
    createRevision: int64(kv.create_revision),
    modRevision: int64(kv.mod_revision),
    version: int64(kv.version),
    lease: int64(kv.lease),
  };
}
