import { CorruptStorageError, decodeEntryRecord, encodeEntryRecord, openRecord, sealRecord, type Entry, type LogStore } from '@cairn/core';
import { inject, injectable } from 'inversify';
import { LmdbEnvironment, type LmdbDatabases, quietly } from './lmdb-environment.js';

/** Key in the raft-state database: the index and term of the last entry compacted away. */
const LOG_HEAD_KEY = 'log-head';

/** The head record: f64 index, f64 term (behind the core's checksum). */
function encodeLogHead(index: number, term: number): Uint8Array {
  const body = new Uint8Array(16);
  const view = new DataView(body.buffer);
  view.setFloat64(0, index);
  view.setFloat64(8, term);
  return sealRecord(body);
}

function decodeLogHead(record: Uint8Array, file: string): { index: number; term: number } {
  const body = openRecord(record, file, 'log head');
  if (body.byteLength !== 16) throw new CorruptStorageError(file, `log head record of ${body.byteLength} bytes`);
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const index = view.getFloat64(0);
  const term = view.getFloat64(8);
  if (!Number.isSafeInteger(index) || index < 0 || !Number.isSafeInteger(term) || term < 0) {
    throw new CorruptStorageError(file, `log head holds index ${index}, term ${term}`);
  }
  return { index, term };
}

/**
 * The Raft log in the raft-log database, one record per entry under its index. First and last
 * index, the snapshot point and the last term are kept in memory; an append, truncate or compact
 * is one transaction (removing a conflicting suffix in the same one) and resolves once LMDB has
 * synced it, so the entries a turn of the Raft driver appends cost one fsync together.
 */
@injectable()
export class LmdbLogStore implements LogStore {
  /** Index of the last entry compacted away (firstIndex - 1), and its term. */
  private offset = 0;
  private offsetTerm = 0;
  private last = 0;
  /** Term of entry `last` (offsetTerm when the log is empty); undefined = read it from disk. */
  private lastTerm: number | undefined = 0;
  /** The newest write's commit: reads wait for it, so they see what was appended before them. */
  private lastCommit: Promise<void> = Promise.resolve();
  private lastDurable: Promise<void> = Promise.resolve();
  /** A write that failed leaves memory ahead of the disk: the store refuses all work after it. */
  private failure: Error | undefined;
  private opened = false;

  constructor(@inject(LmdbEnvironment) private readonly env: LmdbEnvironment) {}

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
    await this.lastDurable.catch(() => undefined);
    await this.env.release();
  }

  /** Read the head and walk the keys: they must run without a gap from the head on. */
  private load(): void {
    const { raftLog, raftState } = this.env.databases;
    const file = this.env.dataFile;
    const head = raftState.getBinary(LOG_HEAD_KEY);
    const { index, term } = head === undefined ? { index: 0, term: 0 } : decodeLogHead(head, file);
    let expected = index + 1;
    for (const key of raftLog.getKeys({})) {
      if (key === expected) {
        expected++;
        continue;
      }
      if (typeof key === 'number' && key <= index) throw new CorruptStorageError(file, `log entry ${key} lies at or below the compacted index ${index}`);
      throw new CorruptStorageError(file, `log entries are not contiguous: expected index ${expected}, found key ${JSON.stringify(key)}`);
    }
    this.offset = index;
    this.offsetTerm = term;
    this.last = expected - 1;
    this.lastTerm = this.last === index ? term : this.readEntry(this.last).term;
    this.failure = undefined;
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  lastIndex(): number {
    return this.last;
  }

  append(entries: readonly Entry[]): Promise<void> {
    const refused = this.refusal();
    if (refused !== undefined) return refused;
    if (entries.length === 0) return this.lastDurable;
    const first = entries[0]!.index;
    if (first > this.last + 1) return Promise.reject(new RangeError(`append at ${first} would leave a gap after last index ${this.last}`));
    if (first <= this.offset) return Promise.reject(new RangeError(`append at ${first} reaches below first index ${this.offset + 1}`));
    const records: Uint8Array[] = new Array<Uint8Array>(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      if (entry.index !== first + i) return Promise.reject(new RangeError(`append batch is not contiguous at position ${i}`));
      records[i] = encodeEntryRecord(entry);
    }
    const end = first + entries.length - 1;
    const replacedTo = this.last;
    this.last = end;
    this.lastTerm = entries[entries.length - 1]!.term;
    return this.track(({ raftLog }) => {
      for (let i = 0; i < records.length; i++) quietly(raftLog.put(first + i, records[i]!));
      // The rest of a conflicting suffix goes in the same transaction.
      for (let i = end + 1; i <= replacedTo; i++) quietly(raftLog.remove(i));
    });
  }

  async entries(lo: number, hi: number, maxBytes = Infinity): Promise<Entry[]> {
    this.checkSlice(lo, hi);
    return this.readSettled(() => {
      this.checkSlice(lo, hi);
      const out: Entry[] = [];
      let size = 0;
      for (let i = lo; i < hi; i++) {
        const entry = this.readEntry(i);
        size += entry.data.byteLength;
        if (out.length > 0 && size > maxBytes) break;
        out.push(entry);
      }
      return out;
    });
  }

  async term(index: number): Promise<number | undefined> {
    const known = this.knownTerm(index);
    if (known !== 'read') return known;
    return this.readSettled(() => {
      const now = this.knownTerm(index);
      return now === 'read' ? this.readEntry(index).term : now;
    });
  }

  /** The term of `index` from memory, or 'read' when it must come from the disk. */
  private knownTerm(index: number): number | undefined | 'read' {
    if (index === this.offset) return this.offsetTerm;
    if (index < this.offset || index > this.last) return undefined;
    if (index === this.last && this.lastTerm !== undefined) return this.lastTerm;
    return 'read';
  }

  private checkSlice(lo: number, hi: number): void {
    if (lo < this.offset + 1 || hi > this.last + 1 || lo > hi) {
      throw new RangeError(`entries [${lo}, ${hi}) outside the log [${this.offset + 1}, ${this.last + 1})`);
    }
  }

  /**
   * Run `read` on LMDB once every write issued so far has committed, so the disk holds what
   * memory says (a write issued while it waited makes it wait again). `read` runs in one turn.
   */
  private async readSettled<T>(read: () => T): Promise<T> {
    for (;;) {
      const commit = this.lastCommit;
      await commit;
      const result = await this.env.gate.run(async () => (commit === this.lastCommit ? { value: read() } : undefined));
      if (result !== undefined) return result.value;
    }
  }

  truncateFrom(index: number): Promise<void> {
    const refused = this.refusal();
    if (refused !== undefined) return refused;
    if (index <= this.offset) return Promise.reject(new RangeError(`truncate from ${index} reaches below first index ${this.offset + 1}`));
    const from = index;
    const to = this.last;
    if (from > to) return this.lastDurable;
    this.last = from - 1;
    this.lastTerm = this.last === this.offset ? this.offsetTerm : undefined;
    return this.track(({ raftLog }) => {
      for (let i = from; i <= to; i++) quietly(raftLog.remove(i));
    });
  }

  compactTo(index: number, term: number): Promise<void> {
    const refused = this.refusal();
    if (refused !== undefined) return refused;
    if (index <= this.offset) return this.lastDurable;
    const from = this.offset + 1;
    const to = Math.min(index, this.last);
    const head = encodeLogHead(index, term);
    if (index >= this.last) {
      this.last = index;
      this.lastTerm = term;
    }
    this.offset = index;
    this.offsetTerm = term;
    return this.track(({ raftLog, raftState }) => {
      for (let i = from; i <= to; i++) quietly(raftLog.remove(i));
      quietly(raftState.put(LOG_HEAD_KEY, head));
    });
  }

  /** The entry filed at `index`, checked: a missing or damaged record is corruption, never a gap. */
  private readEntry(index: number): Entry {
    // The fast read reuses one buffer; decoding copies the data out of it, the only copy made. A
    // plain Uint8Array view, because Buffer's slice() would not copy.
    const fast = this.env.databases.raftLog.getBinaryFast(index);
    if (fast === undefined) throw new CorruptStorageError(this.env.dataFile, `log entry ${index} is missing`);
    return decodeEntryRecord(new Uint8Array(fast.buffer, fast.byteOffset, fast.length), this.env.dataFile, index);
  }

  /** Issue one transaction now; reads after this call wait for its commit, the caller for its sync. */
  private track(write: (dbs: LmdbDatabases) => void): Promise<void> {
    const { committed, durable } = this.env.write(write);
    const failed = (err: unknown): never => {
      this.failure ??= err instanceof Error ? err : new Error(String(err));
      throw err;
    };
    this.lastCommit = committed.catch(failed);
    this.lastDurable = durable.catch(failed);
    this.lastCommit.catch(() => undefined);
    return this.lastDurable;
  }

  private refusal(): Promise<never> | undefined {
    if (!this.opened) return Promise.reject(new Error(`${this.env.dataFile}: the log store is not open`));
    if (this.failure !== undefined) {
      return Promise.reject(new Error(`${this.env.dataFile}: the log store failed earlier and refuses more work: ${this.failure.message}`));
    }
    return undefined;
  }
}
