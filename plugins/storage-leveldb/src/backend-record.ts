import { crc32 } from 'node:zlib';
import { CorruptStorageError } from '@cairn/core';

/**
 * A Backend value as stored: a CRC-32 of key and value, then the value. classic-level reads
 * LevelDB tables without checking their block checksums, so a flipped bit in a table would
 * otherwise come back as a wrong MVCC record.
 */

/**
 * CRC-32 of key then value. An empty array is skipped: Node's zlib.crc32 returns 0, not the CRC it
 * was given, for an empty view whose ArrayBuffer has no storage (zlib's crc32 with a NULL buffer).
 */
function checksumOf(key: Uint8Array, value: Uint8Array): number {
  const crc = key.byteLength === 0 ? 0 : crc32(key);
  return value.byteLength === 0 ? crc : crc32(value, crc);
}

export function sealBackendValue(key: Uint8Array, value: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + value.byteLength);
  out.writeUInt32BE(checksumOf(key, value), 0);
  out.set(value, 4);
  return out;
}

/** The value in `stored`; throws CorruptStorageError naming `file` when it does not match `key`. */
export function openBackendValue(key: Uint8Array, stored: Buffer, file: string): Buffer {
  if (stored.byteLength < 4) throw new CorruptStorageError(file, `backend value of key ${Buffer.from(key).toString('hex')} is torn`);
  const value = stored.subarray(4);
  if (stored.readUInt32BE(0) !== checksumOf(key, value)) {
    throw new CorruptStorageError(file, `backend value of key ${Buffer.from(key).toString('hex')}: checksum mismatch`);
  }
  return value;
}
