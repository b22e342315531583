import assert from 'node:assert/strict';
import type { LogStore } from '../../../ports/log-store.js';
import type { Entry } from '../../../protocol/raft-types.js';
import { bytesEqual } from './assertions.js';

/** What a LogStore should hold after a sequence of operations, kept the simplest way. */
export class LogModel {
  /** Index of the last compacted entry (firstIndex - 1) and its term. */
  offset = 0;
  offsetTerm = 0;
  entries: Entry[] = [];

  get firstIndex(): number {
    return this.offset + 1;
  }

  get lastIndex(): number {
    return this.offset + this.entries.length;
  }

  term(index: number): number | undefined {
    if (index === this.offset) return this.offsetTerm;
    if (index < this.offset || index > this.lastIndex) return undefined;
    return this.entries[index - this.offset - 1]!.term;
  }

  entry(index: number): Entry {
    const e = this.entries[index - this.offset - 1];
    if (e === undefined) throw new RangeError(`the model holds no entry ${index}`);
    return e;
  }

  append(batch: readonly Entry[]): void {
    if (batch.length === 0) return;
    const first = batch[0]!.index;
    if (first <= this.offset || first > this.lastIndex + 1)
      throw new RangeError(`model: append at ${first} outside [${this.firstIndex}, ${this.lastIndex + 1}]`);
    this.entries.length = first - this.offset - 1;
    this.entries.push(...batch);
  }

  truncateFrom(index: number): void {
    if (index <= this.lastIndex) this.entries.length = Math.max(0, index - this.offset - 1);
  }

  compactTo(index: number, term: number): void {
    if (index <= this.offset) return;
    this.entries = index >= this.lastIndex ? [] : this.entries.slice(index - this.offset);
    this.offset = index;
    this.offsetTerm = term;
  }

  clone(): LogModel {
    const copy = new LogModel();
    copy.offset = this.offset;
    copy.offsetTerm = this.offsetTerm;
    copy.entries = this.entries.slice();
    return copy;
  }
}

/** Why `actual` is not `expected`, or undefined when they are the same entry. */
export function entryDifference(actual: Entry | undefined, expected: Entry): string | undefined {
  if (actual === undefined) return `entry ${expected.index} is missing`;
  if (actual.index !== expected.index) return `expected entry ${expected.index}, got index ${actual.index}`;
  if (actual.term !== expected.term) return `entry ${expected.index} has term ${actual.term}, expected ${expected.term}`;
  if (actual.type !== expected.type) return `entry ${expected.index} has type ${actual.type}, expected ${expected.type}`;
  if (!(actual.data instanceof Uint8Array)) return `entry ${expected.index}: data is not a Uint8Array`;
  if (!bytesEqual(actual.data, expected.data)) {
    return `entry ${expected.index}: data differs (${actual.data.byteLength} bytes, expected ${expected.data.byteLength})`;
  }
  return undefined;
}

/** Reads in pages: stores may cap a read, and one huge array of every entry is not the point. */
async function readAll(store: LogStore, lo: number, hi: number): Promise<Entry[]> {
  const out: Entry[] = [];
  while (lo < hi) {
    const page = await store.entries(lo, Math.min(hi, lo + 4096));
    assert.ok(page.length > 0, `entries(${lo}, ${Math.min(hi, lo + 4096)}) returned nothing`);
    out.push(...page);
    lo += page.length;
  }
  return out;
}

/** Asserts that `store` holds exactly what `model` does: bounds, terms at the edges, every entry. */
export async function assertLogMatches(store: LogStore, model: LogModel, when: string): Promise<void> {
  const at = (what: string): string => `${what} (${when})`;
  assert.equal(store.firstIndex(), model.firstIndex, at('firstIndex'));
  assert.equal(store.lastIndex(), model.lastIndex, at('lastIndex'));
  assert.equal(await store.term(model.offset), model.offsetTerm, at(`term(firstIndex - 1 = ${model.offset})`));
  assert.equal(await store.term(model.lastIndex + 1), undefined, at(`term(lastIndex + 1 = ${model.lastIndex + 1})`));
  if (model.offset >= 1) assert.equal(await store.term(model.offset - 1), undefined, at(`term(firstIndex - 2 = ${model.offset - 1})`));
  const got = await readAll(store, model.firstIndex, model.lastIndex + 1);
  assert.equal(got.length, model.entries.length, at('number of entries'));
  for (let i = 0; i < model.entries.length; i++) {
    const difference = entryDifference(got[i], model.entries[i]!);
    if (difference !== undefined) assert.fail(at(difference));
  }
  // term() of every entry only for small logs: it is one call per entry.
  const step = Math.max(1, Math.floor(model.entries.length / 512));
  for (let i = model.firstIndex; i <= model.lastIndex; i += step) {
    assert.equal(await store.term(i), model.term(i), at(`term(${i})`));
  }
  if (model.lastIndex >= model.firstIndex) assert.equal(await store.term(model.lastIndex), model.term(model.lastIndex), at(`term(${model.lastIndex})`));
}
