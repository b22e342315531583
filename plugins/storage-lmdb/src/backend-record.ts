import { crc32 } from 'node:zlib';
import { CorruptStorageError } from '@cairn/core';

/**
 * A Backend value as stored: u32 CRC-32 over key and value, then the value. The key is in the
 * checksum so a pair whose key bytes were damaged is refused too (the MVCC layer walks every pair
 * when it opens, so damage anywhere is found then).
 */
const CRC_BYTES = 4;

/**
 * CRC-32 of key then value. An empty value adds nothing, so it is left out: Node's crc32() of a
 * zero-length array over a zero-length ArrayBuffer returns 0 instead of the running value.
 */
function pairCrc(key: Uint8Array, value: Uint8Array): number {
  const crc = crc32(key);
  return value.byteLength === 0 ? crc : crc32(value, crc);
}

/** LMDB's largest key with lmdb-js's default 4 KiB pages. */
export const MAX_BACKEND_KEY_BYTES = 1978;

export function encodeBackendRecord(key: Uint8Array, value: Uint8Array): Uint8Array {
  const record = new Uint8Array(CRC_BYTES + value.byteLength);
  record.set(value, CRC_BYTES);
  new DataView(record.buffer).setUint32(0, pairCrc(key, value));
  return record;
}

/** The value in `record` (a view into it, no copy); CorruptStorageError when it does not match `key`. */
export function decodeBackendRecord(key: Uint8Array, record: Uint8Array, file: string): Uint8Array {
  if (record.byteLength < CRC_BYTES) throw new CorruptStorageError(file, `backend value of key ${printable(key)} is torn (${record.byteLength} bytes)`);
  const value = record.subarray(CRC_BYTES);
  const stored = new DataView(record.buffer, record.byteOffset, CRC_BYTES).getUint32(0);
  if (pairCrc(key, value) !== stored) throw new CorruptStorageError(file, `backend pair of key ${printable(key)}: checksum mismatch`);
  return value;
}

/** The key in hex, shortened: enough to find it in an error message. */
export function printable(key: Uint8Array): string {
  const hex = Buffer.from(key.buffer, key.byteOffset, Math.min(key.byteLength, 32)).toString('hex');
  return key.byteLength > 32 ? `0x${hex}… (${key.byteLength} bytes)` : `0x${hex}`;
}

/** RangeError unless LMDB can store `key`. */
export function checkBackendKey(key: Uint8Array): void {
  if (key.byteLength === 0) throw new RangeError('backend key is empty: LMDB cannot store a zero-length key');
  if (key.byteLength > MAX_BACKEND_KEY_BYTES) {
    throw new RangeError(`backend key of ${key.byteLength} bytes is longer than LMDB's ${MAX_BACKEND_KEY_BYTES}-byte limit`);
  }
}
