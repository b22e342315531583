import type { KeyValue } from '../api/kv-types.js';
import { writeU64BE } from './revision-key.js';

/**
 * One revision of one key as stored in the Backend: a put (with the full KeyValue) or a delete
 * (a tombstone). Layout: flags u8 (1 = tombstone) | create u64 | version u64 | lease i64 |
 * key length u32 | key | value. The mod revision is the record's own revision (its backend key).
 */
export interface KeyRecord {
  readonly tombstone: boolean;
  readonly key: Uint8Array;
  readonly createRevision: number;
  readonly version: number;
  readonly lease: bigint;
  readonly value: Uint8Array;
}

const HEADER = 1 + 8 + 8 + 8 + 4;

export function encodeKeyRecord(r: KeyRecord): Uint8Array {
  const out = Buffer.allocUnsafe(HEADER + r.key.length + r.value.length);
  out[0] = r.tombstone ? 1 : 0;
  writeU64BE(out, r.createRevision, 1);
  writeU64BE(out, r.version, 9);
  if (r.lease === 0n) out.fill(0, 17, 25);
  else out.writeBigInt64BE(r.lease, 17);
  out.writeUInt32BE(r.key.length, 25);
  out.set(r.key, HEADER);
  out.set(r.value, HEADER + r.key.length);
  return out;
}

export function decodeKeyRecord(bytes: Uint8Array): KeyRecord {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < HEADER) throw new Error(`MVCC record is truncated (${b.length} bytes)`);
  const keyLength = b.readUInt32BE(25);
  if (HEADER + keyLength > b.length || b[0]! > 1) throw new Error('MVCC record is corrupt');
  return {
    tombstone: b[0] === 1,
    createRevision: Number(b.readBigUInt64BE(1)),
    version: Number(b.readBigUInt64BE(9)),
    lease: b.readBigInt64BE(17),
    key: b.subarray(HEADER, HEADER + keyLength),
    value: b.subarray(HEADER + keyLength),
  };
}

export function toKeyValue(r: KeyRecord, modRevision: number): KeyValue {
  return { key: r.key, value: r.value, createRevision: r.createRevision, modRevision, version: r.version, lease: r.lease };
}
