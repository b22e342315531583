import { inject, injectable, optional } from 'inversify';
import { CorruptStorageError, decodeEntryRecord, encodeEntryRecord, openRecord, sealRecord, type Entry, type LogStore } from '@cairn/core';
import type { LevelDatabase, LevelDatabaseOptions, LevelOp } from './level-database.js';
import { LevelDatabasePool, levelDatabases } from './level-database-pool.js';
import { PooledDatabaseHandle } from './pooled-database-handle.js';
import { ENTRY_END, LOG_OFFSET_KEY, entryIndexOf, entryKey } from './key-layout.js';
import { TermRuns } from './term-runs.js';
import { LEVELDB_RAFT_DATABASE } from './tokens.js';

/** The compaction point: index and term of the last entry dropped, as two float64s behind a CRC. */
function encodeOffset(index: number, term: number): Uint8Array {
  const body = new Uint8Array(16);
  const view = new DataView(body.buffer);
  view.setFloat64(0, index);
  view.setFloat64(8, term);
  return sealRecord(body);
}

function decodeOffset(record: Uint8Array, file: string): { index: number; term: number } {
  const body = openRecord(record, file, 'log compaction point');
  if (body.byteLength !== 16) throw new CorruptStorageError(file, `log compaction point of ${body.byteLength} bytes`);
  const view = new DataView(body.buffer, body.byteOffset, 16);
  const index = view.getFloat64(0);
  const term = view.getFloat64(8);
  if (!Number.isSafeInteger(index) || index < 0 || !Number.isSafeInteger(term) || term < 0) {
    throw new CorruptStorageError(file, `log compaction point holds index ${index}, term ${term}`);
  }
  return { index, term };
}

/**
 * The Raft log in LevelDB: one key per entry (`E` + big-endian index, so the log is one ordered
 * range) holding the core's checksummed entry record, and the compaction point under `O`.
 *
 * First and last index and every entry's term live in memory, loaded (and every record checked)
 * on open, so `firstIndex`, `lastIndex` and `term` never touch the disk. Each append, truncation
 * and compaction is one LevelDB batch written with `sync`; batches issued in one turn are merged
 * into one (see LevelDatabase).
 */
@injectable()
export class LevelDbLogStore implements LogStore {
  private readonly handle: PooledDatabaseHandle;
  private offset = 0;
  private offsetTerm = 0;
  private last = 0;
  private readonly terms = new TermRuns();
  /** Lowest index each write in flight changes: reads reaching it wait until it has landed. */
  private readonly inFlightFloors: number[] = [];

  /** `database`: the raft database, shared with the stable and snapshot stores. */
  constructor(@inject(LEVELDB_RAFT_DATABASE) database: LevelDatabaseOptions, @inject(LevelDatabasePool) @optional() pool: LevelDatabasePool = levelDatabases) {
    this.handle = new PooledDatabaseHandle(pool, database);
  }

  get location(): string {
    return this.handle.location;
  }

  private get database(): LevelDatabase | undefined {
    return this.handle.database;
  }

  open(): Promise<void> {
    return this.handle.open((database) => this.load(database));
  }

  close(): Promise<void> {
    return this.handle.close();
  }

  private async load(database: LevelDatabase): Promise<void> {
    const file = database.location;
    const offsetRecord = await database.read(LOG_OFFSET_KEY);
    const offset = offsetRecord === undefined ? { index: 0, term: 0 } : decodeOffset(offsetRecord, file);
    this.offset = offset.index;
    this.offsetTerm = offset.term;
    this.terms.clear();
    let expected = offset.index + 1;
    let previousTerm = offset.term;
    for await (const [key, value] of database.entries({ gte: entryKey(0), lt: ENTRY_END }, 1024)) {
      const index = entryIndexOf(key);
      if (index === undefined) throw new CorruptStorageError(file, `malformed log key ${key.toString('hex')}`);
      if (index !== expected) {
        throw new CorruptStorageError(
          file,
          index <= offset.index
            ? `log entry ${index} lies at or below the compaction point ${offset.index}`
            : `log entries ${expected}..${index - 1} are missing`,
        );
      }
      const entry = decodeEntryRecord(value, file, index);
      if (entry.term < previousTerm) throw new CorruptStorageError(file, `log entry ${index} has term ${entry.term}, below the term ${previousTerm} before it`);
      previousTerm = entry.term;
      this.terms.push(index, entry.term);
      expected++;
    }
    this.last = expected - 1;
  }

  append(entries: readonly Entry[]): Promise<void> {
    const database = this.database;
    if (database === undefined) return Promise.reject(this.notOpen());
    if (entries.length === 0) return Promise.resolve();
    const first = entries[0]!.index;
    if (!Number.isSafeInteger(first)) return Promise.reject(new RangeError(`append at index ${first}`));
    if (first > this.last + 1) return Promise.reject(new RangeError(`append at ${first} would leave a gap after last index ${this.last}`));
    if (first <= this.offset) return Promise.reject(new RangeError(`append at ${first} reaches below first index ${this.offset + 1}`));
    for (let i = 1; i < entries.length; i++) {
      if (entries[i]!.index !== first + i) return Promise.reject(new RangeError(`append batch is not contiguous at position ${i}`));
    }
    const newLast = first + entries.length - 1;
    const ops: LevelOp[] = [];
    // A conflicting suffix longer than the batch: drop the rest of it in the same batch.
    for (let i = newLast + 1; i <= this.last; i++) ops.push({ type: 'del', key: entryKey(i) });
    for (const entry of entries) ops.push({ type: 'put', key: entryKey(entry.index), value: encodeEntryRecord(entry) });
    this.terms.truncateFrom(first);
    for (const entry of entries) this.terms.push(entry.index, entry.term);
    this.last = newLast;
    return this.track(first, database.write(ops, true));
  }

  async entries(lo: number, hi: number, maxBytes = Infinity): Promise<Entry[]> {
    const database = this.database;
    if (database === undefined) throw this.notOpen();
    for (;;) {
      if (lo < this.offset + 1 || hi > this.last + 1 || lo > hi) {
        throw new RangeError(`entries [${lo}, ${hi}) outside the log [${this.offset + 1}, ${this.last + 1})`);
      }
      if (lo === hi) return [];
      if (!this.inFlightFloors.some((floor) => floor < hi)) break;
      await database.settled();
    }
    if (database.writeFailure !== undefined) throw database.writeFailure;
    const file = database.location;
    const out: Entry[] = [];
    let bytes = 0;
    let expected = lo;
    for await (const [key, value] of database.entries({ gte: entryKey(lo), lt: entryKey(hi) }, Math.min(hi - lo, 256))) {
      if (entryIndexOf(key) !== expected) throw new CorruptStorageError(file, `log entry ${expected} is missing`);
      const entry = decodeEntryRecord(value, file, expected);
      bytes += entry.data.byteLength;
      if (out.length > 0 && bytes > maxBytes) return out;
      out.push(entry);
      expected++;
    }
    if (expected !== hi) throw new CorruptStorageError(file, `log entry ${expected} is missing`);
    return out;
  }

  async term(index: number): Promise<number | undefined> {
    if (index === this.offset) return this.offsetTerm;
    if (index < this.offset || index > this.last) return undefined;
    return this.terms.at(index);
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  lastIndex(): number {
    return this.last;
  }

  truncateFrom(index: number): Promise<void> {
    const database = this.database;
    if (database === undefined) return Promise.reject(this.notOpen());
    if (index <= this.offset) return Promise.reject(new RangeError(`truncate from ${index} reaches below first index ${this.offset + 1}`));
    // Nothing to remove: every write issued before (all durable) still has to land first.
    if (index > this.last) return database.settled();
    const ops: LevelOp[] = [];
    for (let i = index; i <= this.last; i++) ops.push({ type: 'del', key: entryKey(i) });
    this.terms.truncateFrom(index);
    this.last = index - 1;
    return this.track(index, database.write(ops, true));
  }

  compactTo(index: number, term: number): Promise<void> {
    const database = this.database;
    if (database === undefined) return Promise.reject(this.notOpen());
    if (index <= this.offset) return database.settled();
    const ops: LevelOp[] = [];
    const dropUpTo = Math.min(index, this.last);
    for (let i = this.offset + 1; i <= dropUpTo; i++) ops.push({ type: 'del', key: entryKey(i) });
    ops.push({ type: 'put', key: LOG_OFFSET_KEY, value: encodeOffset(index, term) });
    if (index >= this.last) {
      this.terms.clear();
      this.last = index;
    } else {
      this.terms.dropBefore(index + 1);
    }
    this.offset = index;
    this.offsetTerm = term;
    return database.write(ops, true);
  }

  private track(floor: number, write: Promise<void>): Promise<void> {
    this.inFlightFloors.push(floor);
    const done = (): void => {
      this.inFlightFloors.splice(this.inFlightFloors.indexOf(floor), 1);
    };
    write.then(done, done);
    return write;
  }

  private notOpen(): Error {
    return new Error(`${this.location}: log store is not open`);
  }
}
