import { readdir, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { inject, injectable, optional } from 'inversify';
import type { Backend, BackendOp, BackendRange, BackendReadView, BackendReader, BackendSize } from '@cairn/core';
import type { LevelDatabase, LevelDatabaseOptions, LevelOp, LevelSnapshot } from './level-database.js';
import { LevelDatabasePool, levelDatabases } from './level-database-pool.js';
import { PooledDatabaseHandle } from './pooled-database-handle.js';
import { BACKEND_END, BACKEND_START, FLUSH_MARKER_KEY, backendKey } from './key-layout.js';
import { openBackendValue, sealBackendValue } from './backend-record.js';
import { LEVELDB_BACKEND_DATABASE } from './tokens.js';

/** Reads of the backend database, at its current state or pinned to a LevelDB snapshot. */
class LevelDbBackendReader implements BackendReader {
  constructor(
    private readonly database: () => LevelDatabase,
    private readonly snapshot?: () => LevelSnapshot,
  ) {}

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const database = this.database();
    const stored = await database.get(backendKey(key), this.snapshot?.());
    return stored === undefined ? undefined : openBackendValue(key, stored, database.location);
  }

  async *range(range: BackendRange): AsyncIterable<[Uint8Array, Uint8Array]> {
    if (range.limit !== undefined && range.limit <= 0) return;
    const database = this.database();
    const snapshot = this.snapshot?.();
    const pairs = database.entries(
      {
        gte: range.gte === undefined ? BACKEND_START : backendKey(range.gte),
        lt: range.lt === undefined ? BACKEND_END : backendKey(range.lt),
        ...(range.reverse === true ? { reverse: true } : {}),
        ...(range.limit === undefined ? {} : { limit: range.limit }),
        ...(snapshot === undefined ? {} : { snapshot }),
      },
      range.limit === undefined ? 1000 : Math.min(range.limit, 1000),
    );
    for await (const [stored, value] of pairs) {
      const key = stored.subarray(1);
      yield [key, openBackendValue(key, value, database.location)];
    }
  }
}

/**
 * The MVCC key space in its own LevelDB database: each key under `K`, each value behind a CRC of
 * key and value. Writes are one unsynced LevelDB batch each (atomic, visible at once); `flush`
 * writes a marker with `sync`, and since LevelDB appends every write to one log and a synced
 * write fsyncs that log, it makes every earlier write durable with it. Read views are LevelDB
 * snapshots.
 */
@injectable()
export class LevelDbBackend implements Backend {
  private readonly handle: PooledDatabaseHandle;
  private readonly reader: LevelDbBackendReader;
  private readonly views = new Set<LevelSnapshot>();
  private flushes = 0;

  /** `database`: the backend database, in a directory of its own. */
  constructor(
    @inject(LEVELDB_BACKEND_DATABASE) private readonly database: LevelDatabaseOptions,
    @inject(LevelDatabasePool) @optional() pool: LevelDatabasePool = levelDatabases,
  ) {
    this.handle = new PooledDatabaseHandle(pool, database);
    this.reader = new LevelDbBackendReader(() => this.open_());
  }

  get location(): string {
    return this.database.location;
  }

  open(): Promise<void> {
    return this.handle.open();
  }

  close(): Promise<void> {
    return this.handle.close(async () => {
      for (const view of this.views) await view.close().catch(() => undefined);
      this.views.clear();
    });
  }

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.reader.get(key);
  }

  range(range: BackendRange): AsyncIterable<[Uint8Array, Uint8Array]> {
    return this.reader.range(range);
  }

  write(ops: readonly BackendOp[]): Promise<void> {
    let database: LevelDatabase;
    try {
      database = this.open_();
    } catch (err) {
      return Promise.reject(err);
    }
    const level: LevelOp[] = ops.map((op) =>
      op.type === 'put' ? { type: 'put', key: backendKey(op.key), value: sealBackendValue(op.key, op.value) } : { type: 'del', key: backendKey(op.key) },
    );
    return database.write(level, false);
  }

  flush(): Promise<void> {
    let database: LevelDatabase;
    try {
      database = this.open_();
    } catch (err) {
      return Promise.reject(err);
    }
    const marker = Buffer.alloc(8);
    marker.writeDoubleBE(++this.flushes);
    return database.write([{ type: 'put', key: FLUSH_MARKER_KEY, value: marker }], true);
  }

  readView(): BackendReadView {
    const snapshot = this.open_().snapshot();
    this.views.add(snapshot);
    let released = false;
    const reader = new LevelDbBackendReader(
      () => {
        if (released) throw new Error(`${this.location}: read view used after release`);
        return this.open_();
      },
      () => snapshot,
    );
    return {
      get: (key) => reader.get(key),
      range: (range) => reader.range(range),
      release: () => {
        if (released) return;
        released = true;
        this.views.delete(snapshot);
        void snapshot.close().catch(() => undefined);
      },
    };
  }

  /**
   * `total`: every file of the database directory. `inUse`: LevelDB's estimate of the table bytes
   * holding the key range plus the write-ahead log not yet turned into tables. LevelDB keeps
   * overwritten and deleted values until a compaction passes over them; that is the difference.
   * `available`: what the directory's file system has left.
   */
  async size(): Promise<BackendSize> {
    const database = this.open_();
    let total = 0;
    let logBytes = 0;
    for (const name of await readdir(database.location)) {
      try {
        const bytes = (await stat(join(database.location, name))).size;
        total += bytes;
        if (/^\d+\.log$/.test(name)) logBytes += bytes;
      } catch {
        // A file LevelDB removed between readdir and stat.
      }
    }
    const tables = await database.approximateSize(BACKEND_START, BACKEND_END);
    const disk = await statfs(database.location);
    return { total, inUse: Math.min(total, tables + logBytes), available: disk.bavail * disk.bsize };
  }

  /** Compact the whole key space: LevelDB rewrites every table, dropping overwritten and deleted values. */
  async defragment(): Promise<void> {
    await this.open_().compactRange(Uint8Array.of(0x00), Uint8Array.of(0xff));
  }

  private open_(): LevelDatabase {
    const database = this.handle.database;
    if (database === undefined) throw new Error(`${this.location}: backend is not open`);
    return database;
  }
}
