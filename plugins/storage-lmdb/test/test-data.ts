import { EntryType, type Entry, type StableState } from '@cairn/core';

export const bytes = (text: string): Uint8Array => Buffer.from(text, 'latin1');
export const text = (data: Uint8Array | undefined): string | undefined => (data === undefined ? undefined : Buffer.from(data).toString('latin1'));

/** Entries [from, from + count) of `term`, each with `size` bytes of data that start with its index. */
export function entries(from: number, count: number, term: number, size = 16): Entry[] {
  return Array.from({ length: count }, (_, i) => {
    const index = from + i;
    const data = Buffer.alloc(size, index & 0xff);
    if (size >= 8) data.writeDoubleBE(index, 0);
    return { index, term, type: index % 5 === 0 ? EntryType.ConfChange : EntryType.Normal, data };
  });
}

export function stableState(term: number): StableState {
  return {
    hardState: { term, vote: term % 2 === 0 ? '000000000000000a' : '0', commit: term * 3 },
    confState: { voters: ['000000000000000a', '000000000000000b'], learners: term > 3 ? ['000000000000000c'] : [] },
    clusterId: 'c0ffee0000000001',
    memberId: '000000000000000a',
  };
}

/** Deterministic bytes: `length` of them from `seed` (xorshift). */
export function patternBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** `total` bytes of `patternBytes(..., seed)` yielded as pieces of `piece` bytes, produced one at a time. */
export async function* streamOf(total: number, seed: number, piece = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let offset = 0, n = 0; offset < total; offset += piece, n++) yield patternBytes(Math.min(piece, total - offset), seed * 1000 + n);
}

export async function collect(data: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of data) parts.push(part);
  return Buffer.concat(parts);
}

export async function pairs(range: AsyncIterable<[Uint8Array, Uint8Array]>): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const [k, v] of range) out.push([text(k)!, text(v)!]);
  return out;
}
