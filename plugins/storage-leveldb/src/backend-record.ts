import { crc32 } from 'node:zlib';
import { CorruptStorageError } from '@cairn/core';

/**
 * A Backend value as stored: a CRC-32 of key and value, then the value. classic-level reads
 * LevelDB tables without checking their block checksums, so a flipped bit in a table would
 * otherwise come back as a wrong MVCC record.
 */

export function sealBackendValue(key: Uint8Array, value: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + value.byteLength);
  out.writeUInt32BE(crc32(value, crc32(key)), 0);
  out.set(value, 4);
  return out;
}

/** The value in `stored`; throws CorruptStorageError naming `file` when it does not match `key`. */
export function openBackendValue(key: Uint8Array, stored: Buffer, file: string): Buffer {
  if (stored.byteLength < 4) throw new CorruptStorageError(file, `backend value of key ${Buffer.from(key).toString('hex')} is torn`);
  const value = stored.subarray(4);
  if (stored.readUInt32BE(0) !== crc32(value, crc32(key))) {
    throw new CorruptStorageError(file, `backend value of key ${Buffer.from(key).toString('hex')}: checksum mismatch`);
  }
  return value;
}
