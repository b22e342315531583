import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CorruptStorageError,
  decodeSnapshotMetaRecord,
  encodeSnapshotMetaRecord,
  openRecord,
  sealRecord,
  type SnapshotMeta,
  type SnapshotStore,
  type StoredSnapshot,
} from '@cairn/core';
import { inject, injectable } from 'inversify';
import { LmdbEnvironment, quietly } from './lmdb-environment.js';
import { SnapshotChunker } from './snapshot-chunker.js';
import { readSnapshotFrames, SnapshotFileWriter, syncDirectory } from './snapshot-file.js';
import { LMDB_SNAPSHOT_STORE_OPTIONS } from './tokens.js';

export interface LmdbSnapshotStoreOptions {
  /** How many of the most recently saved snapshots to keep. */
  readonly retain: number;
  /** Bytes of data per chunk (frame) of a snapshot file. */
  readonly chunkBytes: number;
}

/** A complete snapshot, as its catalog record describes it. */
interface CatalogEntry {
  /** Order of completed saves; also names the file. */
  readonly seq: number;
  readonly meta: SnapshotMeta;
  readonly size: number;
  readonly checksum: number;
  readonly chunks: number;
}

const CATALOG_HEAD_BYTES = 16;
/** Snapshot files live beside data.mdb, in this directory. */
export const SNAPSHOT_DIRECTORY = 'snapshots';
const SNAPSHOT_FILE = /^(\d+)\.snap$/;
const PARTIAL_FILE = /^incoming-\d+\.partial$/;
/** Frames may be this big whatever chunkBytes is now (it may have been larger when a file was written). */
const LARGEST_CHUNK = 64 << 20;
/** Catalog record: sealed u32 chunk count | f64 size | u32 data CRC-32 | snapshot meta record (core codec). */
function encodeCatalogRecord(entry: CatalogEntry): Uint8Array {
  const meta = encodeSnapshotMetaRecord(entry.meta);
  const body = new Uint8Array(CATALOG_HEAD_BYTES + meta.byteLength);
  const view = new DataView(body.buffer);
  view.setUint32(0, entry.chunks);
  view.setFloat64(4, entry.size);
  view.setUint32(12, entry.checksum);
  body.set(meta, CATALOG_HEAD_BYTES);
  return sealRecord(body);
}

function decodeCatalogRecord(seq: number, record: Uint8Array, file: string): CatalogEntry {
  const what = `snapshot catalog record #${seq}`;
  const body = openRecord(record, file, what);
  if (body.byteLength < CATALOG_HEAD_BYTES) throw new CorruptStorageError(file, `${what} is torn`);
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const chunks = view.getUint32(0);
  const size = view.getFloat64(4);
  const checksum = view.getUint32(12);
  if (!Number.isSafeInteger(size) || size < 0) throw new CorruptStorageError(file, `${what} gives a size of ${size}`);
  const meta = decodeSnapshotMetaRecord(body.subarray(CATALOG_HEAD_BYTES), file);
  return { seq, meta, size, checksum, chunks };
}

/** Saved later: the port ranks snapshots by completed saves, not by index. */
const newer = (a: CatalogEntry, b: CatalogEntry): boolean => a.seq > b.seq;
const nameOf = (e: CatalogEntry): string => `snapshot ${e.meta.term}-${e.meta.index} (#${e.seq})`;

/**
 * Snapshots: the data in a file of checksummed chunks under snapshots/ (written while the stream
 * arrives, one chunk at a time, then fdatasync'd and renamed into place, the directory synced),
 * and a catalog record in LMDB (metadata, size, CRC-32 of the data) written by one durable
 * transaction that also drops the catalog records beyond the `retain` most recently saved; their
 * files are deleted after it. latest() is the most recently saved one (not the highest index: a
 * deposed leader's snapshot must not shadow the one a member installs next). Only a snapshot with a catalog record exists; a file without one (a save that
 * failed or was cut short by a crash) is deleted at the next open. The data is in files, not in
 * LMDB, because LMDB never returns space to the file system: every snapshot ever saved would
 * stay in data.mdb's size.
 */
@injectable()
export class LmdbSnapshotStore implements SnapshotStore {
  /** Complete, durable snapshots. */
  private catalog: CatalogEntry[] = [];
  private nextSeq = 1;
  /** Names the files of saves in progress. */
  private nextIncoming = 1;
  /** Saves finish one after the other, so each drops what the previous one kept. */
  private finishing: Promise<void> = Promise.resolve();
  private opened = false;
  private readonly directory: string;

  constructor(
    @inject(LmdbEnvironment) private readonly env: LmdbEnvironment,
    @inject(LMDB_SNAPSHOT_STORE_OPTIONS) private readonly options: LmdbSnapshotStoreOptions,
  ) {
    this.directory = join(env.directory, SNAPSHOT_DIRECTORY);
  }

  async open(): Promise<void> {
    if (this.opened) return;
    await this.env.acquire();
    try {
      this.load();
    } catch (err) {
      await this.env.release();
      throw err;
    }
    this.opened = true;
  }

  async close(): Promise<void> {
    if (!this.opened) return;
    this.opened = false;
    await this.finishing.catch(() => undefined);
    await this.env.release();
  }

  private load(): void {
    const { snapshotCatalog } = this.env.databases;
    const file = this.env.dataFile;
    const catalog: CatalogEntry[] = [];
    let highest = 0;
    for (const { key, value } of snapshotCatalog.getRange({})) {
      if (typeof key !== 'number') throw new CorruptStorageError(file, `snapshot catalog key ${JSON.stringify(key)} is not a sequence number`);
      catalog.push(decodeCatalogRecord(key, value, file));
      highest = Math.max(highest, key);
    }
    mkdirSync(this.directory, { recursive: true });
    const complete = new Set(catalog.map((e) => e.seq));
    for (const name of readdirSync(this.directory)) {
      const seq = SNAPSHOT_FILE.exec(name)?.[1];
      if (seq !== undefined) highest = Math.max(highest, Number(seq));
      // Partial files and files no catalog record names are saves that never completed.
      if (PARTIAL_FILE.test(name) || (seq !== undefined && !complete.has(Number(seq)))) rmSync(join(this.directory, name), { force: true });
    }
    this.catalog = catalog;
    this.nextSeq = highest + 1;
  }

  private fileOf(seq: number): string {
    return join(this.directory, `${seq}.snap`);
  }

  async save(meta: SnapshotMeta, data: AsyncIterable<Uint8Array>): Promise<void> {
    if (!this.opened) throw new Error(`${this.env.dataFile}: the snapshot store is not open`);
    const frozen: SnapshotMeta = {
      index: meta.index,
      term: meta.term,
      confState: { voters: [...meta.confState.voters], learners: [...meta.confState.learners] },
    };
    const partial = join(this.directory, `incoming-${this.nextIncoming++}.partial`);
    const chunker = new SnapshotChunker(this.options.chunkBytes);
    let chunks = 0;
    const writer = await SnapshotFileWriter.create(partial);
    try {
      for await (const piece of data) {
        for (const record of chunker.push(piece)) {
          await writer.append(record);
          chunks++;
        }
      }
      const last = chunker.finish();
      if (last !== undefined) {
        await writer.append(last);
        chunks++;
      }
      await writer.finish();
    } catch (err) {
      await writer.abandon();
      await rm(partial, { force: true });
      throw err;
    }
    const shape = { meta: frozen, size: chunker.size, checksum: chunker.checksum, chunks };
    const finish = this.finishing.then(() => this.finish(partial, shape));
    this.finishing = finish.catch(() => undefined);
    await finish;
  }

  /**
   * Give the synced file of a finished save its place in the order of completed saves, make it
   * complete and durable in one transaction that also drops what falls out of retention, then
   * delete their files. Saves finish one at a time, in the order their data ended.
   */
  private async finish(partial: string, shape: Omit<CatalogEntry, 'seq'>): Promise<void> {
    const entry: CatalogEntry = { seq: this.nextSeq++, ...shape };
    try {
      await rename(partial, this.fileOf(entry.seq));
      syncDirectory(this.directory);
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
    const kept = [...this.catalog, entry].sort((a, b) => (newer(a, b) ? -1 : 1));
    const dropped = kept.splice(Math.max(1, this.options.retain));
    const record = encodeCatalogRecord(entry);
    try {
      await this.env.write(({ snapshotCatalog }) => {
        quietly(snapshotCatalog.put(entry.seq, record));
        for (const old of dropped) quietly(snapshotCatalog.remove(old.seq));
      }).durable;
    } catch (err) {
      await rm(this.fileOf(entry.seq), { force: true });
      throw err;
    }
    this.catalog = kept;
    // A reader with a file open keeps reading it: the data goes when the last handle closes.
    for (const old of dropped) await rm(this.fileOf(old.seq), { force: true });
  }

  async latest(): Promise<StoredSnapshot | undefined> {
    if (!this.opened) throw new Error(`${this.env.dataFile}: the snapshot store is not open`);
    let newest: CatalogEntry | undefined;
    for (const e of this.catalog) if (newest === undefined || newer(e, newest)) newest = e;
    if (newest === undefined) return undefined;
    const entry = newest;
    // Read it all once to check it; the bytes are thrown away chunk by chunk.
    for await (const _ of this.chunksOf(entry)) {
      /* checked as it is read */
    }
    return {
      meta: entry.meta,
      size: entry.size,
      read: () => this.chunksOf(entry),
    };
  }

  /** Metadata of every stored snapshot, most recently saved first. */
  list(): SnapshotMeta[] {
    return this.catalog
      .slice()
      .sort((a, b) => (newer(a, b) ? -1 : 1))
      .map((e) => e.meta);
  }

  /** The data of `entry`, each chunk checked, the whole checked at the end. */
  private async *chunksOf(entry: CatalogEntry): AsyncGenerator<Uint8Array> {
    const path = this.fileOf(entry.seq);
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${path}: cannot read ${nameOf(entry)}: ${(err as Error).message}`, { cause: err });
      if (!this.catalog.includes(entry)) throw new Error(`${path}: ${nameOf(entry)} is no longer stored: newer snapshots replaced it`, { cause: err });
      throw new CorruptStorageError(path, `${nameOf(entry)}: its data file is missing`);
    }
    try {
      yield* readSnapshotFrames(handle, path, { ...entry, largestChunk: LARGEST_CHUNK }, nameOf(entry));
    } finally {
      await handle.close();
    }
  }
}
