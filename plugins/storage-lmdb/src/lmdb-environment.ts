import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statfsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { inject, injectable } from 'inversify';
import { open, type Database, type RootDatabase, type Transaction } from 'lmdb';
import { CorruptStorageError, openRecord, sealRecord, type BackendSize } from '@cairn/core';
import { commitFailure } from './commit-failure.js';
import { checkLmdbFileHeader } from './lmdb-file-header.js';
import { verifyEnvironment } from './lmdb-verifier.js';
import { recordCleanClose, takeCleanClose } from './clean-close.js';
import { StorageGate } from './storage-gate.js';
import { LMDB_ENVIRONMENT_OPTIONS } from './tokens.js';

export interface LmdbEnvironmentOptions {
  /** Directory holding data.mdb and lock.mdb. */
  readonly directory: string;
  /** Initial size of the memory map in bytes; LMDB grows it when a write needs more. */
  readonly mapSize: number;
  /** Never fsync: a crash of the machine may lose or damage anything. Tests only. */
  readonly noSync: boolean;
  /** Read transactions open at once (read views, snapshot reads, ranges). */
  readonly maxReaders: number;
  /** Walk the file in a child process before mapping it (see lmdb-verifier.ts), unless this plugin closed it cleanly and it is untouched since. */
  readonly verifyOnOpen: boolean;
  /** The walk (default verifyEnvironment); tests count its calls. */
  readonly verify?: (directory: string, dataFile: string) => Promise<void>;
  /**
   * The member's log is kept by another plugin: an environment that holds a Raft log (written when
   * this one kept it) is refused, since starting without that log would drop entries it acknowledged.
   */
  readonly logElsewhere?: boolean;
}

/** The named databases of one Cairn LMDB environment; values are raw bytes. */
export interface LmdbDatabases {
  /** Raft log: entry index → entry record (core codec). */
  readonly raftLog: Database<Uint8Array, number>;
  /** Raft's small records by name: the log head, the stable state. */
  readonly raftState: Database<Uint8Array, string>;
  /** Complete snapshots: sequence number → sealed catalog record. */
  readonly snapshotCatalog: Database<Uint8Array, number>;
  /** The MVCC key space: raw key → checked value. */
  readonly backend: Database<Uint8Array, Uint8Array>;
}

/** One write transaction: `committed` resolves once it is visible to reads, `durable` once it is on disk. */
export interface LmdbCommit {
  readonly committed: Promise<void>;
  readonly durable: Promise<void>;
}

/** What lmdb-js returns from a write with `separateFlushed`: settles at commit, `flushed` at sync. */
type CommitPromise = Promise<boolean> & { readonly flushed?: Promise<unknown> };

interface DatabaseStats {
  readonly pageSize: number;
  readonly treeBranchPageCount: number;
  readonly treeLeafPageCount: number;
  readonly overflowPages: number;
}
interface EnvironmentStats extends DatabaseStats {
  readonly entryCount: number;
  readonly free: DatabaseStats;
}

const FORMAT_KEY = 'cairn-storage-lmdb-format';
const FORMAT = { store: 'cairn-storage-lmdb', version: 1 } as const;
const META_PAGES = 2;
/** Where defragment() builds the compacted copy; a leftover is an unfinished defragment. */
const COMPACTING_DIR = 'compacting';

/** Directories an environment of this process has open: a second one on the same files would corrupt LMDB's locking. */
const openDirectories = new Set<string>();

const pagesOf = (s: DatabaseStats): number => s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages;

function fsyncPath(path: string, flags: string): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Observe `p`'s rejection so it is never unhandled: lmdb-js rejects every write of a failed commit, and the commit itself reports the failure. */
export const quietly = (p: Promise<unknown>): void => {
  p.catch(() => {
    /* observed by whoever awaits it */
  });
};

/**
 * One LMDB environment (data.mdb + lock.mdb) shared by the four storage ports. Each port opens
 * and closes it; the files are open while at least one port is. Writes go through lmdb-js's
 * write thread: everything issued in one turn of the event loop is one transaction and one sync.
 */
@injectable()
export class LmdbEnvironment {
  readonly directory: string;
  /** The file every error names. */
  readonly dataFile: string;
  readonly gate = new StorageGate();
  private root: RootDatabase<Uint8Array, string> | undefined;
  private dbs: LmdbDatabases | undefined;
  private users = 0;
  /** open/close/defragment one after the other. */
  private transition: Promise<unknown> = Promise.resolve();

  constructor(@inject(LMDB_ENVIRONMENT_OPTIONS) private readonly options: LmdbEnvironmentOptions) {
    this.directory = resolve(options.directory);
    this.dataFile = join(this.directory, 'data.mdb');
  }

  get noSync(): boolean {
    return this.options.noSync;
  }

  get isOpen(): boolean {
    return this.root !== undefined;
  }

  /** Open the files for one more user (a port's open()). */
  acquire(): Promise<void> {
    return this.serially(async () => {
      if (this.users === 0) await this.openFiles(this.options.verifyOnOpen);
      this.users++;
    });
  }

  /**
   * One user fewer; the last one closes the files once every transaction in flight is on disk.
   * Read views still open then end with an error.
   */
  release(): Promise<void> {
    return this.serially(async () => {
      if (this.users === 0) return;
      this.users--;
      if (this.users > 0) return;
      await this.gate.exclusive(async () => {
        await this.closeFiles();
        this.gate.dropLeases();
      }, true);
    });
  }

  get databases(): LmdbDatabases {
    if (this.dbs === undefined) throw new Error(`${this.dataFile}: the LMDB environment is not open`);
    return this.dbs;
  }

  /**
   * Run `write` (which issues puts and removes on the databases it is given) as one atomic
   * transaction. It is issued in this turn when the gate is open, so it shares the transaction
   * (and the sync) with every other write of the turn; else once the gate opens, on the databases
   * of that moment (a defragment reopens them).
   */
  write(write: (dbs: LmdbDatabases) => void): LmdbCommit {
    let flushed: Promise<unknown> | undefined;
    const committed = this.gate.run(async () => {
      const dbs = this.databases;
      const pending = this.requireRoot().batch(() => write(dbs)) as CommitPromise;
      flushed = pending.flushed;
      try {
        await pending;
      } catch (err) {
        throw await commitFailure(err, this.dataFile);
      }
    });
    // lmdb-js's flush promise never rejects, so it is awaited only after the commit succeeded.
    const durable = committed.then(() => flushed);
    quietly(committed);
    quietly(durable);
    return { committed, durable: durable.then(() => undefined) };
  }

  /** A read transaction pinned at the last commit; `done()` it promptly, it holds pages. */
  readTransaction(): Transaction {
    return this.requireRoot().useReadTransaction();
  }

  /** File size, the bytes of it in pages that hold data (the rest is LMDB's free list), and the space left on its file system. */
  size(): Promise<BackendSize> {
    return this.gate.run(async () => {
      const root = this.requireRoot();
      const total = statSync(this.dataFile).size;
      const env = root.getStats() as EnvironmentStats;
      let pages = META_PAGES + pagesOf(env) + pagesOf(env.free);
      for (const db of Object.values(this.databases) as Database[]) pages += pagesOf(db.getStats() as DatabaseStats);
      const disk = statfsSync(this.directory);
      return { total, inUse: Math.min(total, pages * env.pageSize), available: disk.bavail * disk.bsize };
    });
  }

  /**
   * Give free pages back to the file system: copy the environment with compaction (LMDB's
   * mdb_env_copy2 with MDB_CP_COMPACT), sync the copy, and swap it in for data.mdb. Runs alone:
   * it waits for read views and ranges to end, then holds every storage operation for the copy
   * and the swap, as etcd's defrag does.
   */
  defragment(): Promise<void> {
    return this.serially(() =>
      this.gate.exclusive(async () => {
        const root = this.requireRoot();
        const work = join(this.directory, COMPACTING_DIR);
        const copy = join(work, 'data.mdb');
        rmSync(work, { recursive: true, force: true });
        mkdirSync(work);
        try {
          await root.backup(work, true);
          fsyncPath(copy, 'r+');
        } catch (err) {
          rmSync(work, { recursive: true, force: true });
          throw new Error(`${this.dataFile}: defragment: compacting copy failed: ${(err as Error).message}`, { cause: err });
        }
        await this.closeFiles();
        // Until the rename the old file is whole; after it the synced copy is.
        renameSync(copy, this.dataFile);
        fsyncPath(this.directory, 'r');
        rmSync(work, { recursive: true, force: true });
        await this.openFiles(false);
      }),
    );
  }

  private serially<T>(step: () => Promise<T>): Promise<T> {
    const next = this.transition.then(step, step);
    this.transition = next.catch(() => undefined);
    return next;
  }

  private requireRoot(): RootDatabase<Uint8Array, string> {
    if (this.root === undefined) throw new Error(`${this.dataFile}: the LMDB environment is not open`);
    return this.root;
  }

  private async openFiles(verify: boolean): Promise<void> {
    if (openDirectories.has(this.directory)) {
      throw new Error(`${this.directory}: already open in this process by another @cairn/storage-lmdb environment`);
    }
    mkdirSync(this.directory, { recursive: true });
    rmSync(join(this.directory, COMPACTING_DIR), { recursive: true, force: true });
    checkLmdbFileHeader(this.dataFile);
    const untouchedSinceCleanClose = takeCleanClose(this.directory, this.dataFile);
    if (verify && !untouchedSinceCleanClose) await (this.options.verify ?? verifyEnvironment)(this.directory, this.dataFile);
    if (openDirectories.has(this.directory)) {
      throw new Error(`${this.directory}: already open in this process by another @cairn/storage-lmdb environment`);
    }
    let root: RootDatabase<Uint8Array, string>;
    try {
      root = open<Uint8Array, string>({
        path: this.directory,
        noSubdir: false,
        maxDbs: 8,
        mapSize: this.options.mapSize,
        maxReaders: this.options.maxReaders,
        noSync: this.options.noSync,
        encoding: 'binary',
        // Write promises settle at commit (visible); their `flushed` settles at sync (durable).
        separateFlushed: true,
      } as Parameters<typeof open>[0]);
    } catch (err) {
      const message = (err as Error).message;
      if (/MDB_INVALID|MDB_CORRUPTED|MDB_VERSION_MISMATCH|MDB_PAGE_NOTFOUND|not an LMDB/i.test(message)) {
        throw new CorruptStorageError(this.dataFile, message);
      }
      throw new Error(`${this.dataFile}: cannot open the LMDB environment: ${message}`, { cause: err });
    }
    try {
      this.checkFormat(root);
      this.dbs = {
        raftLog: root.openDB<Uint8Array, number>({ name: 'raft-log', encoding: 'binary' }),
        raftState: root.openDB<Uint8Array, string>({ name: 'raft-state', encoding: 'binary' }),
        snapshotCatalog: root.openDB<Uint8Array, number>({ name: 'snapshot-catalog', encoding: 'binary' }),
        backend: root.openDB<Uint8Array, Uint8Array>({ name: 'backend', encoding: 'binary', keyEncoding: 'binary' }),
      };
      if (this.options.logElsewhere === true) this.refuseOwnLog(this.dbs.raftLog);
    } catch (err) {
      this.dbs = undefined;
      void root.close();
      throw err;
    }
    this.root = root;
    openDirectories.add(this.directory);
  }

  private refuseOwnLog(raftLog: Database<Uint8Array, number>): void {
    const [first] = raftLog.getKeys({ limit: 1 });
    if (first === undefined) return;
    const [last] = raftLog.getKeys({ reverse: true, limit: 1 });
    throw new Error(
      `${this.dataFile}: holds a Raft log (entries ${String(first)} to ${String(last)}), but the config takes the log from another plugin; ` +
        'to go on with this data dir, keep the log here: plugins.logStore: { use: "@cairn/storage-lmdb" }',
    );
  }

  /** A fresh environment gets the format marker; any other must carry ours, else it is someone else's. */
  private checkFormat(root: RootDatabase<Uint8Array, string>): void {
    const marker = root.getBinary(FORMAT_KEY);
    if (marker === undefined) {
      if ((root.getStats() as EnvironmentStats).entryCount > 0) {
        throw new CorruptStorageError(this.dataFile, 'an LMDB environment without the Cairn format marker: not a Cairn store');
      }
      const record = sealRecord(new TextEncoder().encode(JSON.stringify(FORMAT)));
      root.transactionSync(() => {
        void root.put(FORMAT_KEY, record);
      });
      return;
    }
    const body = openRecord(marker, this.dataFile, 'format marker');
    let format: { store?: unknown; version?: unknown };
    try {
      format = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body)) as typeof format;
    } catch (err) {
      throw new CorruptStorageError(this.dataFile, `format marker: ${(err as Error).message}`);
    }
    if (format.store !== FORMAT.store)
      throw new CorruptStorageError(this.dataFile, `format marker names store ${JSON.stringify(format.store)}, not ${FORMAT.store}`);
    if (format.version !== FORMAT.version) {
      throw new CorruptStorageError(this.dataFile, `format version ${JSON.stringify(format.version)}; this build reads version ${FORMAT.version}`);
    }
  }

  private async closeFiles(): Promise<void> {
    const root = this.root;
    if (root === undefined) return;
    this.root = undefined;
    this.dbs = undefined;
    try {
      await root.flushed;
      await root.close();
      recordCleanClose(this.directory, this.dataFile);
    } finally {
      openDirectories.delete(this.directory);
    }
  }
}
