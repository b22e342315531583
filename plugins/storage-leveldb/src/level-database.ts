import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { CorruptStorageError } from '@cairn/core';
import { FORMAT_KEY } from './key-layout.js';
import { checkLevelDbLogFile } from './leveldb-log-file-check.js';
import { checkLevelDbTableFile } from './leveldb-table-file-check.js';
import { lockHolder } from './lock-holder.js';

export interface LevelDatabaseOptions {
  /** The directory LevelDB owns (one process at a time: its LOCK file). */
  readonly location: string;
  /** The format marker this database must carry; a database with another is refused. */
  readonly format: string;
  /** false only with the plugin's test-only `noSync`: durable writes then skip fsync. */
  readonly sync: boolean;
  readonly cacheSizeBytes: number;
  readonly writeBufferSizeBytes: number;
  readonly compression: boolean;
  /** Check the checksum of every block of every table before opening (the WAL is always checked). */
  readonly verifyTablesOnOpen: boolean;
}

export type LevelOp = { readonly type: 'put'; readonly key: Uint8Array; readonly value: Uint8Array } | { readonly type: 'del'; readonly key: Uint8Array };

export interface LevelRange {
  readonly gte?: Uint8Array;
  readonly lt?: Uint8Array;
  readonly reverse?: boolean;
  readonly limit?: number;
  readonly snapshot?: LevelSnapshot;
}

type Engine = ClassicLevel<Buffer, Buffer>;
export type LevelSnapshot = ReturnType<Engine['snapshot']>;

interface QueuedBatch {
  readonly ops: LevelOp[];
  durable: boolean;
  readonly waiters: { resolve(): void; reject(err: Error): void }[];
}

/** Files a crash while LevelDB was creating a database can leave before CURRENT exists. */
const CREATION_LEFTOVERS = /^(LOCK|LOG|LOG\.old|MANIFEST-\d+)$/;

/** The cause LevelDB gave, under abstract-level's wrapper ("Database failed to open"). */
function engineMessage(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string } };
  return e.cause?.message ?? e.message ?? String(err);
}

/**
 * One LevelDB database in its own directory: opened after its files were checked, writes applied
 * strictly in the order they were issued, and errors that name the directory.
 *
 * Writes issued in the same turn of the event loop (a Raft append beside a stable-state save) and
 * writes issued while one is in flight are merged into one LevelDB batch: one WAL record, and one
 * fsync when any of them asked to be durable. classic-level runs each write on the libuv thread
 * pool, so without this queue two writes in flight could land in either order.
 *
 * After a write fails, every later one fails with the same error: the callers already updated
 * their in-memory state, and going on would let it drift from the disk (fail-stop, never retry an
 * fsync).
 */
export class LevelDatabase {
  private engine: Engine | undefined;
  private queued: QueuedBatch | undefined;
  private writing = false;
  private failure: Error | undefined;

  constructor(readonly options: LevelDatabaseOptions) {}

  get location(): string {
    return this.options.location;
  }

  /** The error that stopped writes, if one did: what is on disk may be behind the callers' memory. */
  get writeFailure(): Error | undefined {
    return this.failure;
  }

  async open(): Promise<void> {
    if (this.engine !== undefined) return;
    const fresh = await this.checkFiles();
    const engine = new ClassicLevel<Buffer, Buffer>(this.location, {
      keyEncoding: 'buffer',
      valueEncoding: 'buffer',
      createIfMissing: fresh,
      errorIfExists: false,
      cacheSize: this.options.cacheSizeBytes,
      writeBufferSize: this.options.writeBufferSizeBytes,
      compression: this.options.compression,
    });
    try {
      await engine.open();
    } catch (err) {
      throw this.openError(err);
    }
    this.engine = engine;
    this.failure = undefined;
    try {
      await this.checkFormat();
    } catch (err) {
      this.engine = undefined;
      await engine.close().catch(() => undefined);
      throw err;
    }
  }

  /** Finish queued writes, then close. Idempotent. */
  async close(): Promise<void> {
    const engine = this.engine;
    if (engine === undefined) return;
    await this.settled().catch(() => undefined);
    this.engine = undefined;
    await engine.close();
  }

  /** Apply `ops` atomically after every write issued before; `durable` asks for an fsync before resolving. */
  write(ops: readonly LevelOp[], durable: boolean): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.engine === undefined) return Promise.reject(new Error(`${this.location}: LevelDB database is not open`));
    let batch = this.queued;
    if (batch === undefined) {
      batch = { ops: [], durable: false, waiters: [] };
      this.queued = batch;
      if (!this.writing) queueMicrotask(() => this.drain());
    }
    for (const op of ops) batch.ops.push(op);
    batch.durable ||= durable;
    const queued = batch;
    return new Promise<void>((resolve, reject) => queued.waiters.push({ resolve, reject }));
  }

  /** Resolves once every write issued so far has been applied. */
  settled(): Promise<void> {
    return this.writing || this.queued !== undefined ? this.write([], false) : Promise.resolve();
  }

  private drain(): void {
    const batch = this.queued;
    const engine = this.engine;
    if (batch === undefined || this.writing) return;
    this.queued = undefined;
    if (engine === undefined || this.failure !== undefined) {
      const err = this.failure ?? new Error(`${this.location}: LevelDB database was closed with writes queued`);
      for (const w of batch.waiters) w.reject(err);
      return;
    }
    if (batch.ops.length === 0) {
      for (const w of batch.waiters) w.resolve();
      return;
    }
    this.writing = true;
    let written: Promise<void>;
    try {
      // A chained batch: abstract-level's array form clones every operation with the options spread in, 2-3x the CPU.
      const chained = engine.batch();
      for (const op of batch.ops) {
        if (op.type === 'put') chained.put(op.key as Buffer, op.value as Buffer);
        else chained.del(op.key as Buffer);
      }
      written = chained.write({ sync: batch.durable && this.options.sync });
    } catch (err) {
      written = Promise.reject(err);
    }
    written
      .then(
        () => {
          for (const w of batch.waiters) w.resolve();
        },
        (err: unknown) => {
          this.failure ??= this.engineError(err, 'write failed');
          for (const w of batch.waiters) w.reject(this.failure);
        },
      )
      .finally(() => {
        this.writing = false;
        this.drain();
      });
  }

  async get(key: Uint8Array, snapshot?: LevelSnapshot): Promise<Buffer | undefined> {
    try {
      return await this.open_().get(key as Buffer, snapshot === undefined ? {} : { snapshot });
    } catch (err) {
      throw this.engineError(err, 'read failed');
    }
  }

  /**
   * The pairs in a range, read in batches of `batchSize`. Point reads of records that matter go
   * through here too: an iterator does not consult the bloom filters, whose blocks classic-level
   * never checksums.
   */
  async *entries(range: LevelRange, batchSize = 256): AsyncGenerator<[Buffer, Buffer]> {
    const options: Record<string, unknown> = { highWaterMarkBytes: 1 << 20 };
    if (range.gte !== undefined) options['gte'] = range.gte;
    if (range.lt !== undefined) options['lt'] = range.lt;
    if (range.reverse === true) options['reverse'] = true;
    if (range.limit !== undefined) options['limit'] = range.limit;
    if (range.snapshot !== undefined) options['snapshot'] = range.snapshot;
    const iterator = this.open_().iterator(options);
    try {
      for (;;) {
        let batch: [Buffer, Buffer][];
        try {
          batch = await iterator.nextv(batchSize);
        } catch (err) {
          throw this.engineError(err, 'read failed');
        }
        if (batch.length === 0) return;
        for (const pair of batch) yield pair;
      }
    } finally {
      await iterator.close().catch(() => undefined);
    }
  }

  /** The value at `key`, read through an iterator (see `entries`). */
  async read(key: Uint8Array): Promise<Buffer | undefined> {
    for await (const [k, v] of this.entries({ gte: key, limit: 1 }, 1)) return Buffer.compare(k, key) === 0 ? v : undefined;
    return undefined;
  }

  snapshot(): LevelSnapshot {
    return this.open_().snapshot();
  }

  async approximateSize(start: Uint8Array, end: Uint8Array): Promise<number> {
    try {
      return await this.open_().approximateSize(start as Buffer, end as Buffer);
    } catch (err) {
      throw this.engineError(err, 'approximateSize failed');
    }
  }

  async compactRange(start: Uint8Array, end: Uint8Array): Promise<void> {
    try {
      await this.open_().compactRange(start as Buffer, end as Buffer);
    } catch (err) {
      throw this.engineError(err, 'compaction failed');
    }
  }

  /** A LevelDB error as one naming this directory; LevelDB's "Corruption" as CorruptStorageError. */
  engineError(err: unknown, what: string): Error {
    if (err instanceof CorruptStorageError) return err;
    const message = engineMessage(err);
    if (/corrupt/i.test(message)) return new CorruptStorageError(this.location, message);
    return new Error(`${this.location}: LevelDB ${what}: ${message}`, { cause: err });
  }

  private open_(): Engine {
    if (this.engine === undefined) throw new Error(`${this.location}: LevelDB database is not open`);
    return this.engine;
  }

  private openError(err: unknown): Error {
    const message = engineMessage(err);
    if (/lock/i.test(message))
      return new Error(`${this.location}: LevelDB database is in use by another process (its LOCK is held): ${message}`, { cause: err });
    return this.engineError(err, 'open failed');
  }

  /**
   * Whether this is a new database; throws for a directory LevelDB must not open as it is:
   * files but no CURRENT (LevelDB would start an empty database beside them and later delete
   * them), a write-ahead log with a damaged record (LevelDB would drop it silently), or a table
   * with a damaged block (LevelDB would read it unchecked).
   */
  private async checkFiles(): Promise<boolean> {
    let names: string[];
    try {
      names = await readdir(this.location);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return true;
      throw new Error(`${this.location}: cannot read the LevelDB directory: ${code ?? (err as Error).message}`, { cause: err });
    }
    if (!names.includes('CURRENT')) {
      const foreign = names.filter((n) => !CREATION_LEFTOVERS.test(n));
      if (foreign.length === 0) return true;
      throw new CorruptStorageError(
        this.location,
        `holds ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''} but no LevelDB CURRENT file: not a LevelDB database, or its CURRENT file was lost`,
      );
    }
    const holder = names.includes('LOCK') ? await lockHolder(join(this.location, 'LOCK')) : undefined;
    if (holder !== undefined) {
      throw new Error(
        `${this.location}: LevelDB database is in use by ${holder === process.pid ? 'this process (opened elsewhere in it)' : `another process (PID ${holder})`}: it holds the LOCK`,
      );
    }
    for (const name of names.filter((n) => /^\d+\.log$/.test(n)).sort()) await checkLevelDbLogFile(join(this.location, name));
    if (this.options.verifyTablesOnOpen) {
      for (const name of names.filter((n) => /^\d+\.(ldb|sst)$/.test(n)).sort()) await checkLevelDbTableFile(join(this.location, name));
    }
    return false;
  }

  private async checkFormat(): Promise<void> {
    const format = await this.read(FORMAT_KEY);
    if (format === undefined) {
      for await (const _ of this.entries({ limit: 1 }, 1)) {
        throw new CorruptStorageError(
          this.location,
          `holds LevelDB data without a Cairn format marker: another program's database, not a ${this.options.format} one`,
        );
      }
      await this.write([{ type: 'put', key: FORMAT_KEY, value: Buffer.from(this.options.format) }], true);
      return;
    }
    if (format.toString('utf8') !== this.options.format) {
      throw new CorruptStorageError(this.location, `is a "${format.toString('latin1').slice(0, 64)}" database, not a "${this.options.format}" one`);
    }
  }
}
