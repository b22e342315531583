import { inject, injectable, optional, unmanaged } from 'inversify';
import type { LogStore } from '../ports/log-store.js';
import type { Entry } from '../protocol/raft-types.js';
import { MEMORY_DISK, MemoryDisk } from './memory-disk.js';

interface LogState {
  /** Index of the last compacted entry (firstIndex - 1). */
  offset: number;
  /** Term of the entry at `offset`. */
  offsetTerm: number;
  /** Entries offset+1, offset+2, ... */
  entries: Entry[];
}

const copyState = (s: LogState): LogState => ({ offset: s.offset, offsetTerm: s.offsetTerm, entries: s.entries.slice() });

/**
 * The Raft log in memory. Reads see every write at once; the durable copy changes only when a
 * write's promise resolves, and `recover()` after a disk crash keeps only that copy.
 */
@injectable()
export class MemoryLogStore implements LogStore {
  private visible: LogState;
  private durable: LogState;
  /** Number of append calls, for tests that check batching. */
  appendCalls = 0;
  /** Sees every accepted append as it is issued, with the term of the entry before it (the simulator's log checks). */
  appendObserver: ((prevTerm: number, entries: readonly Entry[]) => void) | undefined;

  constructor(
    @inject(MEMORY_DISK) @optional() private readonly disk: MemoryDisk = new MemoryDisk(),
    @unmanaged() initial?: LogState,
  ) {
    this.durable = initial ? copyState(initial) : { offset: 0, offsetTerm: 0, entries: [] };
    this.visible = copyState(this.durable);
  }

  async open(): Promise<void> {
    /* nothing to acquire */
  }
  async close(): Promise<void> {
    /* nothing to release */
  }

  /** A fresh store on `disk` holding only what this one had made durable. */
  recover(disk: MemoryDisk): MemoryLogStore {
    return new MemoryLogStore(disk, this.durable);
  }

  append(entries: readonly Entry[]): Promise<void> {
    this.appendCalls++;
    if (entries.length === 0) return this.disk.write(() => undefined);
    const first = entries[0]!.index;
    const v = this.visible;
    if (first > v.offset + v.entries.length + 1) {
      return Promise.reject(new RangeError(`append at ${first} would leave a gap after last index ${v.offset + v.entries.length}`));
    }
    if (first <= v.offset) {
      return Promise.reject(new RangeError(`append at ${first} reaches below first index ${v.offset + 1}`));
    }
    for (let i = 1; i < entries.length; i++) {
      if (entries[i]!.index !== first + i) {
        return Promise.reject(new RangeError(`append batch is not contiguous at position ${i}`));
      }
    }
    const batch = entries.slice();
    this.appendObserver?.(this.termAt(first - 1) ?? 0, batch);
    const apply = (s: LogState): void => {
      s.entries.length = first - s.offset - 1;
      for (const e of batch) s.entries.push(e);
    };
    apply(v);
    return this.disk.write(() => apply(this.durable));
  }

  async entries(lo: number, hi: number, maxBytes = Infinity): Promise<Entry[]> {
    const v = this.visible;
    const last = v.offset + v.entries.length;
    if (lo < v.offset + 1 || hi > last + 1 || lo > hi) {
      throw new RangeError(`entries [${lo}, ${hi}) outside the log [${v.offset + 1}, ${last + 1})`);
    }
    const out: Entry[] = [];
    let size = 0;
    for (let i = lo; i < hi; i++) {
      const e = v.entries[i - v.offset - 1]!;
      size += e.data.length;
      if (out.length > 0 && size > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  async term(index: number): Promise<number | undefined> {
    return this.termAt(index);
  }

  /** term(), synchronously (memory only). */
  termAt(index: number): number | undefined {
    const v = this.visible;
    if (index === v.offset) return v.offsetTerm;
    if (index < v.offset || index > v.offset + v.entries.length) return undefined;
    return v.entries[index - v.offset - 1]!.term;
  }

  firstIndex(): number {
    return this.visible.offset + 1;
  }

  lastIndex(): number {
    return this.visible.offset + this.visible.entries.length;
  }

  truncateFrom(index: number): Promise<void> {
    const v = this.visible;
    if (index <= v.offset) {
      return Promise.reject(new RangeError(`truncate from ${index} reaches below first index ${v.offset + 1}`));
    }
    const apply = (s: LogState): void => {
      if (index <= s.offset + s.entries.length) s.entries.length = index - s.offset - 1;
    };
    apply(v);
    return this.disk.write(() => apply(this.durable));
  }

  compactTo(index: number, term: number): Promise<void> {
    const apply = (s: LogState): void => {
      if (index <= s.offset) return;
      const last = s.offset + s.entries.length;
      s.entries = index >= last ? [] : s.entries.slice(index - s.offset);
      s.offset = index;
      s.offsetTerm = term;
    };
    apply(this.visible);
    return this.disk.write(() => apply(this.durable));
  }
}
