import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { CorruptStorageError } from '@cairn/core';

/*
 * LMDB's data file begins with two meta pages. lmdb-js does not survive a foreign or damaged file
 * (it crashes the process instead of reporting MDB_INVALID), so the header is checked here first.
 *
 *   page header (24 bytes) | u32 magic 0xBEEFC0DE | u32 version | u64 address | u64 map size |
 *   free DB record: u32 page size | ...                     (all little-endian, as LMDB writes it)
 */
const META_OFFSET = 24;
const MAGIC = 0xbeefc0de;
const DATA_VERSION = 2;
const PAGE_SIZE_OFFSET = META_OFFSET + 24;
const SMALLEST_PAGE = 512;
const LARGEST_PAGE = 65536;

/** Refuse `file` unless it is empty, absent, or starts with two valid LMDB meta pages. */
export function checkLmdbFileHeader(file: string): void {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return; // LMDB's own start: the file is created, then its meta pages are written
    const first = readMeta(fd, 0, size, file, 'first');
    const pageSize = first.getUint32(PAGE_SIZE_OFFSET - META_OFFSET, true);
    if (pageSize < SMALLEST_PAGE || pageSize > LARGEST_PAGE || (pageSize & (pageSize - 1)) !== 0) {
      throw new CorruptStorageError(file, `LMDB meta page names an impossible page size ${pageSize}`);
    }
    if (size < 2 * pageSize) throw new CorruptStorageError(file, `${size} bytes, shorter than LMDB's two meta pages`);
    if (size % pageSize !== 0) throw new CorruptStorageError(file, `${size} bytes is not a whole number of ${pageSize}-byte pages: the file is torn`);
    readMeta(fd, pageSize, size, file, 'second');
  } finally {
    closeSync(fd);
  }
}

function readMeta(fd: number, at: number, size: number, file: string, which: string): DataView {
  const bytes = Buffer.alloc(PAGE_SIZE_OFFSET - META_OFFSET + 4);
  const read = at + META_OFFSET + bytes.length <= size ? readSync(fd, bytes, 0, bytes.length, at + META_OFFSET) : 0;
  if (read < bytes.length) throw new CorruptStorageError(file, `${size} bytes, too short for an LMDB data file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw new CorruptStorageError(file, `not an LMDB data file (no LMDB magic in the ${which} meta page)`);
  const version = view.getUint32(4, true) & 0xffff;
  if (version !== DATA_VERSION) throw new CorruptStorageError(file, `LMDB data format version ${version}, this build reads version ${DATA_VERSION}`);
  return view;
}
