import { createReadStream } from 'node:fs';
import { open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { SnapshotStore, StoredSnapshot } from '../../src/ports/snapshot-store.js';
import { CorruptStorageError, decodeSnapshotMetaRecord, encodeSnapshotMetaRecord } from '../../src/raft/stored-records.js';
import type { SnapshotMeta } from '../../src/raft/types.js';
import { fsyncDirectory } from './file-durability.js';

/** After the data: u32 CRC-32 of the data | f64 its length. */
const TRAILER_BYTES = 12;
const NAME = /^(\d{16})-(\d{8})\.snap$/;

interface SnapshotFile {
  readonly path: string;
  readonly index: number;
  readonly seq: number;
}

/**
 * A test-only SnapshotStore: one file per snapshot, `<index>-<seq>.snap`, holding
 * u32 meta length | sealed meta record | data | trailer. Written as `.tmp`, fdatasync, renamed,
 * directory fsynced; the `retain` most recently saved are kept. latest() verifies the data's checksum by
 * streaming the file before it returns.
 */
export class FileSnapshotStore implements SnapshotStore {
  private seq = 0;

  constructor(private readonly directory: string, private readonly retain = 2) {}

  async open(): Promise<void> {
    const names = await readdir(this.directory);
    const leftovers = names.filter((n) => n.endsWith('.tmp'));
    for (const name of leftovers) await rm(join(this.directory, name), { force: true });
    if (leftovers.length > 0) await fsyncDirectory(join(this.directory, 'x'));
    this.seq = (await this.files()).reduce((m, f) => Math.max(m, f.seq + 1), 0);
  }

  async close(): Promise<void> { /* every save closes its file */ }

  /** Snapshot files, most recently saved first. */
  private async files(): Promise<SnapshotFile[]> {
    const files: SnapshotFile[] = [];
    for (const name of await readdir(this.directory)) {
      const m = NAME.exec(name);
      if (m !== null) files.push({ path: join(this.directory, name), index: Number(m[1]), seq: Number(m[2]) });
    }
    return files.sort((a, b) => b.seq - a.seq);
  }

  async save(meta: SnapshotMeta, data: AsyncIterable<Uint8Array>): Promise<void> {
    const path = join(this.directory, `${meta.index.toString().padStart(16, '0')}-${(this.seq++).toString().padStart(8, '0')}.snap`);
    const temporary = `${path}.tmp`;
    const handle = await open(temporary, 'w');
    try {
      const record = encodeSnapshotMetaRecord(meta);
      const head = Buffer.alloc(4 + record.byteLength);
      head.writeUInt32BE(record.byteLength, 0);
      head.set(record, 4);
      await handle.write(head);
      let crc = 0;
      let size = 0;
      for await (const chunk of data) {
        crc = crc32(chunk, crc);
        size += chunk.byteLength;
        await handle.write(chunk);
      }
      const trailer = Buffer.alloc(TRAILER_BYTES);
      trailer.writeUInt32BE(crc, 0);
      trailer.writeDoubleBE(size, 4);
      await handle.write(trailer);
      await handle.datasync();
    } catch (err) {
      await handle.close();
      await rm(temporary, { force: true });
      throw err;
    }
    await handle.close();
    await rename(temporary, path);
    for (const old of (await this.files()).slice(this.retain)) await rm(old.path, { force: true });
    await fsyncDirectory(path);
  }

  async latest(): Promise<StoredSnapshot | undefined> {
    const newest = (await this.files())[0];
    if (newest === undefined) return undefined;
    const handle = await open(newest.path, 'r');
    try {
      return await this.verified(newest.path, handle);
    } finally {
      await handle.close();
    }
  }

  /** The snapshot in `path` once its meta and data checksums hold. */
  private async verified(path: string, handle: FileHandle): Promise<StoredSnapshot> {
    const fileBytes = (await stat(path)).size;
    const head = Buffer.alloc(4);
    await handle.read(head, 0, 4, 0);
    const metaBytes = head.readUInt32BE(0);
    if (4 + metaBytes + TRAILER_BYTES > fileBytes) throw new CorruptStorageError(path, `metadata of ${metaBytes} bytes does not fit in a ${fileBytes}-byte file`);
    const record = Buffer.alloc(metaBytes);
    await handle.read(record, 0, metaBytes, 4);
    const meta = decodeSnapshotMetaRecord(record, path);
    const trailer = Buffer.alloc(TRAILER_BYTES);
    await handle.read(trailer, 0, TRAILER_BYTES, fileBytes - TRAILER_BYTES);
    const start = 4 + metaBytes;
    const size = fileBytes - TRAILER_BYTES - start;
    if (trailer.readDoubleBE(4) !== size) throw new CorruptStorageError(path, `data is ${size} bytes, the trailer says ${trailer.readDoubleBE(4)}`);
    let crc = 0;
    const read = (): AsyncIterable<Uint8Array> => (size === 0 ? (async function* () { /* empty */ })() : createReadStream(path, { start, end: start + size - 1 }));
    for await (const chunk of read()) crc = crc32(chunk, crc);
    if (crc !== trailer.readUInt32BE(0)) throw new CorruptStorageError(path, 'data checksum mismatch');
    return { meta, size, read };
  }

  /** Metadata of the stored snapshots, newest first. */
  async list(): Promise<SnapshotMeta[]> {
    const metas: SnapshotMeta[] = [];
    for (const file of await this.files()) {
      const handle = await open(file.path, 'r');
      try {
        metas.push((await this.verified(file.path, handle)).meta);
      } finally {
        await handle.close();
      }
    }
    return metas;
  }
}
