import { open, unlink } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { CorruptStorageError } from '@cairn/core';

/**
 * A snapshot's data file: the bytes as they were streamed in, then a 20-byte trailer
 *
 *   "CAIRNSN1" | u64 data size | u32 CRC-32 of the data      (big-endian)
 *
 * The trailer is written last and the file fsynced before the snapshot's metadata is committed,
 * so a file without a valid trailer is one whose save never finished.
 */

const MAGIC = Buffer.from('CAIRNSN1', 'latin1');
export const TRAILER_BYTES = MAGIC.length + 8 + 4;
/** Small chunks (the MVCC store yields one per key) are gathered into writes of this size. */
const WRITE_BUFFER_BYTES = 1 << 20;

export interface SnapshotFileSummary {
  readonly size: number;
  readonly crc: number;
}

function trailer(summary: SnapshotFileSummary): Buffer {
  const out = Buffer.alloc(TRAILER_BYTES);
  MAGIC.copy(out, 0);
  out.writeUInt32BE(Math.floor(summary.size / 2 ** 32), 8);
  out.writeUInt32BE(summary.size >>> 0, 12);
  out.writeUInt32BE(summary.crc, 16);
  return out;
}

/** Stream `data` into a new file at `path` and fsync it (unless `sync` is false); on any failure the file is removed. */
export async function writeSnapshotFile(path: string, data: AsyncIterable<Uint8Array>, sync: boolean): Promise<SnapshotFileSummary> {
  const handle = await open(path, 'wx');
  let size = 0;
  let crc = 0;
  try {
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    const writeOut = async (): Promise<void> => {
      if (pendingBytes === 0) return;
      const block = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      await handle.write(block);
    };
    for await (const chunk of data) {
      if (chunk.byteLength === 0) continue;
      crc = crc32(chunk, crc);
      size += chunk.byteLength;
      // A copy: the producer may reuse its buffer once we ask for the next chunk.
      pending.push(Uint8Array.prototype.slice.call(chunk));
      pendingBytes += chunk.byteLength;
      if (pendingBytes >= WRITE_BUFFER_BYTES) await writeOut();
    }
    await writeOut();
    await handle.write(trailer({ size, crc }));
    if (sync) await handle.sync();
    await handle.close();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw err;
  }
  return { size, crc };
}

/** The size and CRC a file's trailer records; throws CorruptStorageError when the file is missing, torn or not a snapshot. */
export async function readSnapshotTrailer(path: string): Promise<SnapshotFileSummary> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CorruptStorageError(
      path,
      code === 'ENOENT' ? 'snapshot data file is missing' : `cannot open snapshot data file: ${code ?? (err as Error).message}`,
    );
  }
  try {
    const { size: fileSize } = await handle.stat();
    if (fileSize < TRAILER_BYTES) throw new CorruptStorageError(path, `snapshot data file of ${fileSize} bytes is shorter than its trailer`);
    const tail = Buffer.alloc(TRAILER_BYTES);
    await handle.read(tail, 0, TRAILER_BYTES, fileSize - TRAILER_BYTES);
    if (!tail.subarray(0, MAGIC.length).equals(MAGIC)) throw new CorruptStorageError(path, 'snapshot data file has no valid trailer (torn or foreign)');
    const size = tail.readUInt32BE(8) * 2 ** 32 + tail.readUInt32BE(12);
    if (size !== fileSize - TRAILER_BYTES)
      throw new CorruptStorageError(path, `snapshot trailer records ${size} bytes of data, the file holds ${fileSize - TRAILER_BYTES}`);
    return { size, crc: tail.readUInt32BE(16) };
  } finally {
    await handle.close();
  }
}

/**
 * The data of a snapshot file in chunks of `chunkBytes`, its CRC checked as it goes: a mismatch
 * throws CorruptStorageError after the last chunk, before the reader can take the data as whole.
 */
export async function* readSnapshotFile(path: string, expected: SnapshotFileSummary, chunkBytes: number): AsyncGenerator<Uint8Array> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw new Error(`${path}: snapshot is no longer stored (newer snapshots replaced it before this read began)`, { cause: err });
  }
  try {
    let position = 0;
    let crc = 0;
    while (position < expected.size) {
      const want = Math.min(chunkBytes, expected.size - position);
      const chunk = Buffer.allocUnsafe(want);
      const { bytesRead } = await handle.read(chunk, 0, want, position);
      if (bytesRead === 0) throw new CorruptStorageError(path, `snapshot data file ends at byte ${position} of ${expected.size}`);
      const got = bytesRead === want ? chunk : chunk.subarray(0, bytesRead);
      crc = crc32(got, crc);
      position += bytesRead;
      if (position === expected.size && crc !== expected.crc) throw new CorruptStorageError(path, 'snapshot data checksum mismatch');
      yield got;
    }
    if (expected.size === 0 && expected.crc !== 0) throw new CorruptStorageError(path, 'snapshot data checksum mismatch');
  } finally {
    await handle.close();
  }
}

/** Read the whole file once and check its data against the trailer's CRC. */
export async function verifySnapshotFile(path: string, chunkBytes: number): Promise<SnapshotFileSummary> {
  const summary = await readSnapshotTrailer(path);
  for await (const _ of readSnapshotFile(path, summary, chunkBytes)) {
    /* the CRC is checked inside */
  }
  return summary;
}
