import { mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { inject, injectable, optional } from 'inversify';
import {
  CorruptStorageError,
  decodeSnapshotMetaRecord,
  encodeSnapshotMetaRecord,
  type SnapshotMeta,
  type SnapshotStore,
  type StoredSnapshot,
} from '@cairn/core';
import type { LevelDatabase, LevelDatabaseOptions, LevelOp } from './level-database.js';
import { LevelDatabasePool, levelDatabases } from './level-database-pool.js';
import { PooledDatabaseHandle } from './pooled-database-handle.js';
import { SNAPSHOT_END, SNAPSHOT_START, snapshotKey, snapshotKeyParts } from './key-layout.js';
import { readSnapshotFile, verifySnapshotFile, writeSnapshotFile, type SnapshotFileSummary } from './snapshot-file.js';
import { LEVELDB_SNAPSHOT_STORE_OPTIONS } from './tokens.js';

export interface LevelDbSnapshotStoreOptions {
  /** The raft database, which holds each snapshot's metadata. */
  readonly database: LevelDatabaseOptions;
  /** Directory of the data files (created on open). */
  readonly directory: string;
  /** How many of the newest snapshots to keep (at least 1). */
  readonly retain: number;
  /** Bytes per chunk when a snapshot is read out. */
  readonly chunkBytes: number;
}

interface SnapshotRecord {
  readonly meta: SnapshotMeta;
  /** Commit order: the latest committed is the latest snapshot, whatever its index (see the SnapshotStore port). */
  readonly seq: number;
  readonly file: string;
}

const hex16 = (n: number): string => n.toString(16).padStart(16, '0');
const fileNameOf = (index: number, seq: number): string => `${hex16(index)}-${hex16(seq)}.snap`;
const newestFirst = (a: SnapshotRecord, b: SnapshotRecord): number => b.seq - a.seq;

const freeze = (meta: SnapshotMeta): SnapshotMeta => ({
  index: meta.index,
  term: meta.term,
  confState: { voters: [...meta.confState.voters], learners: [...meta.confState.learners] },
});

/**
 * Snapshots as data files beside the raft database, their metadata in it. A save streams the data
 * into a temporary file (through a 1 MiB buffer, never whole in memory) with a CRC-32 trailer,
 * fsyncs it, renames it to its final name, fsyncs the directory, and only then commits the
 * metadata under `S` + index + commit sequence in one synced LevelDB batch that also drops the
 * metadata of snapshots past the `retain` most recently saved; their files are unlinked after. A crash at any
 * point leaves either no trace of the new snapshot or all of it: files without metadata are
 * removed on the next open.
 */
@injectable()
export class LevelDbSnapshotStore implements SnapshotStore {
  private readonly handle: PooledDatabaseHandle;
  /** Committed snapshots, newest first. */
  private records: SnapshotRecord[] = [];
  private nextSeq = 1;
  private nextTemporary = 1;
  /** Commits one at a time, so each sees the ones before it when choosing what to drop. */
  private commits: Promise<void> = Promise.resolve();
  /** Files being read right now, and dropped files whose unlink waits for their readers. */
  private readonly readers = new Map<string, number>();
  private readonly doomed = new Set<string>();
  private readonly retain: number;

  constructor(
    @inject(LEVELDB_SNAPSHOT_STORE_OPTIONS) private readonly options: LevelDbSnapshotStoreOptions,
    @inject(LevelDatabasePool) @optional() pool: LevelDatabasePool = levelDatabases,
  ) {
    this.handle = new PooledDatabaseHandle(pool, options.database);
    this.retain = Math.max(1, options.retain);
  }

  get directory(): string {
    return this.options.directory;
  }

  private get database(): LevelDatabase | undefined {
    return this.handle.database;
  }

  open(): Promise<void> {
    return this.handle.open((database) => this.readFromDisk(database));
  }

  close(): Promise<void> {
    return this.handle.close(async () => {
      await this.commits.catch(() => undefined);
    });
  }

  private async readFromDisk(database: LevelDatabase): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    const records: SnapshotRecord[] = [];
    for await (const [key, value] of database.entries({ gte: SNAPSHOT_START, lt: SNAPSHOT_END })) {
      const parts = snapshotKeyParts(key);
      if (parts === undefined) throw new CorruptStorageError(database.location, `malformed snapshot key ${key.toString('hex')}`);
      const meta = decodeSnapshotMetaRecord(value, database.location);
      if (meta.index !== parts.index)
        throw new CorruptStorageError(database.location, `snapshot metadata filed at index ${parts.index} describes index ${meta.index}`);
      records.push({ meta, seq: parts.seq, file: join(this.directory, fileNameOf(parts.index, parts.seq)) });
    }
    records.sort(newestFirst);
    this.records = records;
    this.nextSeq = records.reduce((m, r) => Math.max(m, r.seq + 1), 1);
    // Data files without committed metadata are saves a crash interrupted.
    const kept = new Set(records.map((r) => r.file));
    for (const name of await readdir(this.directory)) {
      const path = join(this.directory, name);
      if (!kept.has(path) && /^[0-9a-f]{16}(-[0-9a-f]{16}\.snap|\.tmp)$/.test(name)) await unlink(path).catch(() => undefined);
    }
  }

  async save(meta: SnapshotMeta, data: AsyncIterable<Uint8Array>): Promise<void> {
    if (this.database === undefined) throw this.notOpen();
    const frozen = freeze(meta);
    const sync = this.options.database.sync;
    const temporary = join(this.directory, `${hex16(this.nextTemporary++)}.tmp`);
    await writeSnapshotFile(temporary, data, sync);
    const commit = this.commits.then(() => this.commit(frozen, temporary));
    this.commits = commit.catch(() => undefined);
    await commit;
  }

  private async commit(meta: SnapshotMeta, temporary: string): Promise<void> {
    const database = this.database;
    if (database === undefined) {
      await unlink(temporary).catch(() => undefined);
      throw this.notOpen();
    }
    const seq = this.nextSeq++;
    const record: SnapshotRecord = { meta, seq, file: join(this.directory, fileNameOf(meta.index, seq)) };
    try {
      await rename(temporary, record.file);
      if (this.options.database.sync) await syncDirectory(this.directory);
    } catch (err) {
      await unlink(temporary).catch(() => undefined);
      throw err;
    }
    const ranked = [record, ...this.records].sort(newestFirst);
    const dropped = ranked.slice(this.retain);
    const ops: LevelOp[] = [{ type: 'put', key: snapshotKey(meta.index, seq), value: encodeSnapshotMetaRecord(meta) }];
    for (const r of dropped) ops.push({ type: 'del', key: snapshotKey(r.meta.index, r.seq) });
    try {
      await database.write(ops, true);
    } catch (err) {
      await unlink(record.file).catch(() => undefined);
      throw err;
    }
    this.records = ranked.slice(0, this.retain);
    for (const r of dropped) await this.remove(r.file);
  }

  async latest(): Promise<StoredSnapshot | undefined> {
    if (this.database === undefined) throw this.notOpen();
    const record = this.records[0];
    if (record === undefined) return undefined;
    // Counted as a reader, so a save that drops this snapshot meanwhile leaves the file until done.
    this.startReading(record.file);
    let summary: SnapshotFileSummary;
    try {
      summary = await verifySnapshotFile(record.file, this.options.chunkBytes);
    } finally {
      await this.stopReading(record.file);
    }
    return {
      meta: record.meta,
      size: summary.size,
      read: () => this.read(record.file, summary),
    };
  }

  /** Metadata of every kept snapshot, newest first. */
  list(): SnapshotMeta[] {
    return this.records.map((r) => r.meta);
  }

  private async *read(file: string, summary: SnapshotFileSummary): AsyncGenerator<Uint8Array> {
    this.startReading(file);
    try {
      yield* readSnapshotFile(file, summary, this.options.chunkBytes);
    } finally {
      await this.stopReading(file);
    }
  }

  private startReading(file: string): void {
    this.readers.set(file, (this.readers.get(file) ?? 0) + 1);
  }

  private async stopReading(file: string): Promise<void> {
    const left = (this.readers.get(file) ?? 1) - 1;
    if (left > 0) {
      this.readers.set(file, left);
      return;
    }
    this.readers.delete(file);
    if (this.doomed.delete(file)) await unlink(file).catch(() => undefined);
  }

  /** Unlink a dropped snapshot's file now, or when its last reader is done. */
  private async remove(file: string): Promise<void> {
    if (this.readers.has(file)) this.doomed.add(file);
    else await unlink(file).catch(() => undefined);
  }

  private notOpen(): Error {
    return new Error(`${this.directory}: snapshot store is not open`);
  }
}

/** fsync a directory, so a file created or renamed in it survives a power loss. */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
