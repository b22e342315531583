import { crc32 } from 'node:zlib';
import {
  CorruptStorageError, decodeSnapshotMetaRecord, encodeSnapshotMetaRecord, openRecord, sealRecord,
  type SnapshotMeta, type SnapshotStore, type StoredSnapshot,
} from '@cairn/core';
import type { LmdbEnvironment } from './lmdb-environment.js';
import { SnapshotChunker } from './snapshot-chunker.js';

export interface LmdbSnapshotStoreOptions {
  /** How many of the newest snapshots to keep. */
  readonly retain: number;
  /** Bytes of data per chunk record. */
  readonly chunkBytes: number;
}

/** A complete snapshot, as its catalog record describes it. */
interface CatalogEntry {
  readonly seq: number;
  readonly meta: SnapshotMeta;
  readonly size: number;
  readonly checksum: number;
  readonly chunks: number;
}

/** Chunk writes in flight during a save; the next waits for the oldest, so memory stays bounded. */
const CHUNKS_IN_FLIGHT = 2;
const CATALOG_HEAD_BYTES = 16;

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

const newer = (a: CatalogEntry, b: CatalogEntry): boolean =>
  a.meta.index > b.meta.index || (a.meta.index === b.meta.index && a.seq > b.seq);
const nameOf = (e: CatalogEntry): string => `snapshot ${e.meta.term}-${e.meta.index} (#${e.seq})`;

/**
 * Snapshots in the environment: the data as sealed chunks of a fixed size, written while the
 * stream arrives (one chunk transaction at a time, so memory holds a few chunks, never the
 * snapshot), then one durable transaction writes the catalog record (metadata, size, CRC-32 of
 * the data) and drops the snapshots beyond the newest `retain`. A snapshot without a catalog
 * record (a save that failed, or a crash during one) is invisible and removed at the next open.
 */
export class LmdbSnapshotStore implements SnapshotStore {
  /** Complete, durable snapshots. */
  private catalog: CatalogEntry[] = [];
  private nextSeq = 1;
  /** Saves finish one after the other, so each drops what the previous one kept. */
  private finishing: Promise<void> = Promise.resolve();
  private opened = false;

  constructor(private readonly env: LmdbEnvironment, private readonly options: LmdbSnapshotStoreOptions) {}

  async open(): Promise<void> {
    if (this.opened) return;
    await this.env.acquire();
    try {
      await this.load();
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

  private async load(): Promise<void> {
    const { snapshotCatalog, snapshotChunks } = this.env.databases;
    const file = this.env.dataFile;
    const catalog: CatalogEntry[] = [];
    let highest = 0;
    for (const { key, value } of snapshotCatalog.getRange({})) {
      if (typeof key !== 'number') throw new CorruptStorageError(file, `snapshot catalog key ${JSON.stringify(key)} is not a sequence number`);
      catalog.push(decodeCatalogRecord(key, value, file));
      highest = Math.max(highest, key);
    }
    const complete = new Set(catalog.map((e) => e.seq));
    const orphans: [number, number][] = [];
    for (const key of snapshotChunks.getKeys({})) {
      const seq = Array.isArray(key) ? key[0] : undefined;
      if (typeof seq !== 'number') throw new CorruptStorageError(file, `snapshot chunk key ${JSON.stringify(key)} is malformed`);
      highest = Math.max(highest, seq);
      if (!complete.has(seq)) orphans.push(key as [number, number]);
    }
    if (orphans.length > 0) {
      await this.env.write((dbs) => {
        for (const key of orphans) void dbs.snapshotChunks.remove(key);
      }).committed;
    }
    this.catalog = catalog;
    this.nextSeq = highest + 1;
  }

  async save(meta: SnapshotMeta, data: AsyncIterable<Uint8Array>): Promise<void> {
    if (!this.opened) throw new Error(`${this.env.dataFile}: the snapshot store is not open`);
    const frozen: SnapshotMeta = {
      index: meta.index,
      term: meta.term,
      confState: { voters: [...meta.confState.voters], learners: [...meta.confState.learners] },
    };
    const seq = this.nextSeq++;
    const chunker = new SnapshotChunker(this.options.chunkBytes);
    let chunks = 0;
    const inFlight: Promise<void>[] = [];
    const store = (record: Uint8Array): Promise<void> => {
      const key: [number, number] = [seq, chunks++];
      const { committed } = this.env.write(({ snapshotChunks }) => {
        void snapshotChunks.put(key, record);
      });
      inFlight.push(committed);
      return inFlight.length > CHUNKS_IN_FLIGHT ? inFlight.shift()! : Promise.resolve();
    };
    try {
      for await (const piece of data) {
        for (const record of chunker.push(piece)) await store(record);
      }
      const last = chunker.finish();
      if (last !== undefined) await store(last);
      await Promise.all(inFlight);
    } catch (err) {
      await Promise.allSettled(inFlight);
      await this.discard(seq, chunks);
      throw err;
    }
    const entry: CatalogEntry = { seq, meta: frozen, size: chunker.size, checksum: chunker.checksum, chunks };
    const finish = this.finishing.then(() => this.finish(entry));
    this.finishing = finish.catch(() => undefined);
    await finish;
  }

  /** Make `entry` complete and durable in one transaction that also drops what falls out of retention. */
  private async finish(entry: CatalogEntry): Promise<void> {
    const kept = [...this.catalog, entry].sort((a, b) => (newer(a, b) ? -1 : 1));
    const dropped = kept.splice(Math.max(1, this.options.retain));
    const record = encodeCatalogRecord(entry);
    try {
      await this.env.write(({ snapshotCatalog, snapshotChunks }) => {
        void snapshotCatalog.put(entry.seq, record);
        for (const old of dropped) {
          void snapshotCatalog.remove(old.seq);
          for (let n = 0; n < old.chunks; n++) void snapshotChunks.remove([old.seq, n]);
        }
      }).durable;
    } catch (err) {
      await this.discard(entry.seq, entry.chunks).catch(() => undefined);
      throw err;
    }
    this.catalog = kept;
  }

  /** Remove the chunks of a save that will never complete. */
  private async discard(seq: number, chunks: number): Promise<void> {
    if (chunks === 0 || !this.env.isOpen) return;
    await this.env.write(({ snapshotChunks }) => {
      for (let n = 0; n < chunks; n++) void snapshotChunks.remove([seq, n]);
    }).committed;
  }

  async latest(): Promise<StoredSnapshot | undefined> {
    if (!this.opened) throw new Error(`${this.env.dataFile}: the snapshot store is not open`);
    let newest: CatalogEntry | undefined;
    for (const e of this.catalog) if (newest === undefined || newer(e, newest)) newest = e;
    if (newest === undefined) return undefined;
    const entry = newest;
    // Read it all once to check it; the bytes are thrown away chunk by chunk.
    for await (const _ of this.chunksOf(entry)) { /* checked as it is read */ }
    return {
      meta: entry.meta,
      size: entry.size,
      read: () => this.chunksOf(entry),
    };
  }

  /** Metadata of every stored snapshot, newest first. */
  list(): SnapshotMeta[] {
    return this.catalog.slice().sort((a, b) => (newer(a, b) ? -1 : 1)).map((e) => e.meta);
  }

  /** The data of `entry` from one read transaction, each chunk checked, the whole checked at the end. */
  private async *chunksOf(entry: CatalogEntry): AsyncGenerator<Uint8Array> {
    const file = this.env.dataFile;
    const release = await this.env.gate.leaseWhenOpen();
    try {
      const txn = this.env.readTransaction();
      try {
        const { snapshotCatalog, snapshotChunks } = this.env.databases;
        if (snapshotCatalog.get(entry.seq, { transaction: txn }) === undefined) {
          throw new Error(`${file}: ${nameOf(entry)} is no longer stored: newer snapshots replaced it`);
        }
        let crc = 0;
        let size = 0;
        for (let n = 0; n < entry.chunks; n++) {
          const record = snapshotChunks.get([entry.seq, n], { transaction: txn });
          if (record === undefined) throw new CorruptStorageError(file, `${nameOf(entry)}: chunk ${n} of ${entry.chunks} is missing`);
          const body = openRecord(record, file, `${nameOf(entry)} chunk ${n}`);
          crc = crc32(body, crc);
          size += body.byteLength;
          yield body;
        }
        if (size !== entry.size) throw new CorruptStorageError(file, `${nameOf(entry)}: ${size} bytes of data, the catalog says ${entry.size}`);
        if (crc !== entry.checksum) throw new CorruptStorageError(file, `${nameOf(entry)}: checksum mismatch over its data`);
      } finally {
        txn.done();
      }
    } finally {
      release();
    }
  }
}
