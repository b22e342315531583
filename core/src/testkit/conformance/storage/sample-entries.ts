import { EntryType, type Entry } from '../../../protocol/raft-types.js';

/** `length` pseudo-random bytes fixed by `seed` (xorshift32, four bytes at a time: several MiB stay cheap). */
export function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(length / 4));
  let x = (seed ^ 0x9e3779b9) >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    words[i] = x;
  }
  return new Uint8Array(words.buffer, 0, length);
}

/** `length` bytes of `tag` repeated: a batch whose bytes can be recognised in a syscall trace. */
export function taggedBytes(tag: string, length: number): Uint8Array {
  const unit = new TextEncoder().encode(tag);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += unit.length) out.set(unit.subarray(0, Math.min(unit.length, length - i)), i);
  return out;
}

/** An entry whose data is fixed by its index and term, so a misplaced or stale entry shows. */
export function sampleEntry(index: number, term: number, dataBytes = 32, type: EntryType = index % 7 === 3 ? EntryType.ConfChange : EntryType.Normal): Entry {
  return { index, term, type, data: pseudoRandomBytes(dataBytes, index * 1_000_003 + term) };
}

/** Entries [from, to] (inclusive), all of `term`. */
export function sampleEntries(from: number, to: number, term: number, dataBytes = 32): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(sampleEntry(i, term, dataBytes));
  return out;
}
