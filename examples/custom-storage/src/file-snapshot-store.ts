import { createReadStream } from 'node:fs';
import { open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { inject, injectable, optional } from 'inversify';
import {
  CorruptStorageError,
  decodeSnapshotMetaRecord,
  encodeSnapshotMetaRecord,
  type SnapshotMeta,
  type SnapshotStore,
  type StoredSnapshot,
} from '@cairn/core';
import { ensureDirectory, fsyncDirectory, writeFully } from './file-durability.js';
import { FILE_SNAPSHOT_DIRECTORY, FILE_SNAPSHOT_STORE_OPTIONS } from './tokens.js';

export interface FileSnapshotStoreOptions {
  /** How many of the most recently saved snapshots to keep (default 2). */
  readonly retain?: number;
}

/** After the data: u32 CRC-32 of the data | f64 its length. */
const TRAILER_BYTES = 12;
/** `<index>-<save number>.snap`: the save number orders snapshots by completed save, as the port asks. */
const NAME = /^(\d{16})-(\d{8})\.snap$/;
/** A save under way (or one a crash cut short): never read, removed at open. */
const TEMPORARY = /\.snap\.tmp$/;

interface SnapshotFile {
  readonly path: string;
  readonly index: number;
  readonly seq: number;
}

/**
 * Snapshots as one file each, holding u32 meta length | sealed meta record | data | trailer. A save
 * streams the data into a `.snap.tmp` file, fdatasyncs it, numbers it (saves are ranked by when
 * they complete, not by index), renames it to `<index>-<number>.snap`, removes all but the `retain`
 * most recently saved, and fsyncs the directory before it resolves. latest() streams the newest
 * file once to verify the data's checksum before it returns, so a damaged snapshot is refused
 * (CorruptStorageError naming the file) before anyone installs it.
 */
@injectable()
export class FileSnapshotStore implements SnapshotStore {
  private readonly retain: number;
  /** The number the next completed save gets. */
  private seq = 0;
  /** Names the temporary files of saves under way. */
  private pending = 0;

  constructor(
    @inject(FILE_SNAPSHOT_DIRECTORY) private readonly directory: string,
    @inject(FILE_SNAPSHOT_STORE_OPTIONS) @optional() options: FileSnapshotStoreOptions = {},
  ) {
    this.retain = Math.max(1, options.retain ?? 2);
  }

  async open(): Promise<void> {
    await ensureDirectory(this.directory);
    const leftovers = (await readdir(this.directory)).filter((n) => TEMPORARY.test(n));
    for (const name of leftovers) await rm(join(this.directory, name), { force: true });
    if (leftovers.length > 0) await fsyncDirectory(join(this.directory, leftovers[0]!));
    this.seq = (await this.files()).reduce((m, f) => Math.max(m, f.seq + 1), 0);
  }

  async close(): Promise<void> {
    /* every save closes its file */
  }

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
    const index = meta.index.toString().padStart(16, '0');
    const temporary = join(this.directory, `${index}-pending-${this.pending++}.snap.tmp`);
    const handle = await open(temporary, 'w');
    try {
      const record = encodeSnapshotMetaRecord(meta);
      const head = Buffer.alloc(4 + record.byteLength);
      head.writeUInt32BE(record.byteLength, 0);
      head.set(record, 4);
      let at = await writeFully(handle, head, 0);
      let crc = 0;
      let size = 0;
      for await (const chunk of data) {
        // Node's crc32 of an empty view without a backing store answers 0, not the running value.
        if (chunk.byteLength === 0) continue;
        crc = crc32(chunk, crc);
        size += chunk.byteLength;
        at += await writeFully(handle, chunk, at);
      }
      const trailer = Buffer.alloc(TRAILER_BYTES);
      trailer.writeUInt32BE(crc, 0);
      trailer.writeDoubleBE(size, 4);
      await writeFully(handle, trailer, at);
      await handle.datasync();
    } catch (err) {
      await handle.close();
      await rm(temporary, { force: true });
      throw err;
    }
    await handle.close();
    // Numbered only now: a save that started earlier but finished later is the more recent one.
    const path = join(this.directory, `${index}-${(this.seq++).toString().padStart(8, '0')}.snap`);
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
    if (4 + metaBytes + TRAILER_BYTES > fileBytes)
      throw new CorruptStorageError(path, `metadata of ${metaBytes} bytes does not fit in a ${fileBytes}-byte file`);
    const record = Buffer.alloc(metaBytes);
    await handle.read(record, 0, metaBytes, 4);
    const meta = decodeSnapshotMetaRecord(record, path);
    const trailer = Buffer.alloc(TRAILER_BYTES);
    await handle.read(trailer, 0, TRAILER_BYTES, fileBytes - TRAILER_BYTES);
    const start = 4 + metaBytes;
    const size = fileBytes - TRAILER_BYTES - start;
    if (trailer.readDoubleBE(4) !== size) throw new CorruptStorageError(path, `data is ${size} bytes, the trailer says ${trailer.readDoubleBE(4)}`);
    let crc = 0;
    const read = (): AsyncIterable<Uint8Array> =>
      size === 0
        ? (async function* () {
            /* empty */
          })()
        : createReadStream(path, { start, end: start + size - 1 });
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
