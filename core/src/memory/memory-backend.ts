import { injectable } from 'inversify';
import type { Backend, BackendOp, BackendRange, BackendReadView, BackendReader, BackendSize } from '../ports/backend.js';

const compare = (a: Uint8Array, b: Uint8Array): number => Buffer.compare(a, b);

/** Sorted key/value arrays; shared with read views until the next write copies them. */
interface Table {
  keys: Uint8Array[];
  values: Uint8Array[];
}

/** Index of the first key ≥ `key`. */
function lowerBound(keys: readonly Uint8Array[], key: Uint8Array): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compare(keys[mid]!, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

class TableReader implements BackendReader {
  constructor(protected readonly table: () => Table) {}

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const t = this.table();
    const i = lowerBound(t.keys, key);
    return i < t.keys.length && compare(t.keys[i]!, key) === 0 ? t.values[i] : undefined;
  }

  async *range(range: BackendRange): AsyncIterable<[Uint8Array, Uint8Array]> {
    const t = this.table();
    const from = range.gte === undefined ? 0 : lowerBound(t.keys, range.gte);
    const to = range.lt === undefined ? t.keys.length : lowerBound(t.keys, range.lt);
    const limit = range.limit ?? Infinity;
    let n = 0;
    if (range.reverse === true) {
      for (let i = to - 1; i >= from && n < limit; i--, n++) yield [t.keys[i]!, t.values[i]!];
    } else {
      for (let i = from; i < to && n < limit; i++, n++) yield [t.keys[i]!, t.values[i]!];
    }
  }
}

/**
 * An in-memory Backend: sorted arrays with binary search. Read views share the arrays until the
 * next write copies them (copy on write), so a view never changes. Optionally durable only on
 * flush(), to let tests model what a crash loses.
 */
@injectable()
export class MemoryBackend extends TableReader implements Backend {
  private current: Table = { keys: [], values: [] };
  private shared = false;
  private durable: Table = { keys: [], values: [] };

  constructor() {
    super(() => this.current);
  }

  async open(): Promise<void> {}

  async close(): Promise<void> {}

  async write(ops: readonly BackendOp[]): Promise<void> {
    if (this.shared) {
      this.current = { keys: [...this.current.keys], values: [...this.current.values] };
      this.shared = false;
    }
    const { keys, values } = this.current;
    for (const op of ops) {
      const i = lowerBound(keys, op.key);
      const found = i < keys.length && compare(keys[i]!, op.key) === 0;
      if (op.type === 'put') {
        const key = Uint8Array.from(op.key);
        const value = Uint8Array.from(op.value);
        if (found) values[i] = value;
        else {
          keys.splice(i, 0, key);
          values.splice(i, 0, value);
        }
      } else if (found) {
        keys.splice(i, 1);
        values.splice(i, 1);
      }
    }
  }

  async flush(): Promise<void> {
    this.durable = this.current;
    this.shared = true;
  }

  readView(): BackendReadView {
    const table = this.current;
    this.shared = true;
    const view = new TableReader(() => table) as TableReader & BackendReadView;
    view.release = () => {};
    return view;
  }

  async size(): Promise<BackendSize> {
    let bytes = 0;
    for (let i = 0; i < this.current.keys.length; i++) bytes += this.current.keys[i]!.length + this.current.values[i]!.length;
    return { total: bytes, inUse: bytes };
  }

  async defragment(): Promise<void> {}

  /** A backend holding only what was flushed here: what survives a simulated crash. */
  recover(): MemoryBackend {
    const b = new MemoryBackend();
    b.current = this.durable;
    b.shared = true;
    b.durable = this.durable;
    return b;
  }
}
