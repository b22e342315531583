import { closeSync, fsyncSync, openSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { CorruptStorageError, openRecord } from '@cairn/core';

/*
 * A snapshot's data file: a run of frames, each u32 length of the record | record, where the
 * record is the core's sealed layout (u32 CRC-32 of the body | body) made by SnapshotChunker.
 * What the file must hold (frames, size, CRC-32 of all the data) is in the snapshot's catalog
 * record in LMDB, so a frame too many or too few, a torn one or a flipped byte are all refused.
 */
const LENGTH_BYTES = 4;
const CRC_BYTES = 4;

/** Writes frames to a new file; `finish()` syncs it. */
export class SnapshotFileWriter {
  private constructor(private readonly handle: FileHandle) {}

  /** Create `path`, which must not exist. */
  static async create(path: string): Promise<SnapshotFileWriter> {
    return new SnapshotFileWriter(await open(path, 'wx'));
  }

  async append(record: Uint8Array): Promise<void> {
    const length = Buffer.allocUnsafe(LENGTH_BYTES);
    length.writeUInt32BE(record.byteLength, 0);
    await this.handle.writev([length, record]);
  }

  /** fdatasync, then close. */
  async finish(): Promise<void> {
    try {
      await this.handle.datasync();
    } finally {
      await this.handle.close();
    }
  }

  async abandon(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}

/** What the catalog says the file holds. */
export interface SnapshotFileShape {
  readonly chunks: number;
  readonly size: number;
  readonly checksum: number;
  /** Largest body a frame may have (a frame claiming more is damage, not a reason to allocate it). */
  readonly largestChunk: number;
}

/** The bodies of the frames in the open file `handle` (`path` names it in errors), each checked, the whole checked at the end. */
export async function* readSnapshotFrames(handle: FileHandle, path: string, shape: SnapshotFileShape, what: string): AsyncGenerator<Uint8Array> {
  const head = Buffer.alloc(LENGTH_BYTES);
  let position = 0;
  let crc = 0;
  let size = 0;
  for (let n = 0; n < shape.chunks; n++) {
    const { bytesRead } = await handle.read(head, 0, LENGTH_BYTES, position);
    if (bytesRead < LENGTH_BYTES) throw new CorruptStorageError(path, `${what}: the file ends before chunk ${n} of ${shape.chunks}`);
    const length = head.readUInt32BE(0);
    if (length <= CRC_BYTES || length > CRC_BYTES + shape.largestChunk) throw new CorruptStorageError(path, `${what}: chunk ${n} claims ${length} bytes`);
    const record = Buffer.allocUnsafe(length);
    const body = await handle.read(record, 0, length, position + LENGTH_BYTES);
    if (body.bytesRead < length) throw new CorruptStorageError(path, `${what}: chunk ${n} is torn`);
    const data = openRecord(record, path, `${what} chunk ${n}`);
    crc = crc32(data, crc);
    size += data.byteLength;
    position += LENGTH_BYTES + length;
    yield data;
  }
  const { bytesRead } = await handle.read(head, 0, 1, position);
  if (bytesRead !== 0) throw new CorruptStorageError(path, `${what}: bytes after the last of its ${shape.chunks} chunks`);
  if (size !== shape.size) throw new CorruptStorageError(path, `${what}: ${size} bytes of data, the catalog says ${shape.size}`);
  if (crc !== shape.checksum) throw new CorruptStorageError(path, `${what}: checksum mismatch over its data`);
}

/** fsync a directory, so a rename or a new file in it is durable. */
export function syncDirectory(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
