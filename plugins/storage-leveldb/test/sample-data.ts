import { EntryType, type Entry } from '@cairn/core';

/** Entries [from, from + count) of `term`, each with `bytes` of data that encode its index. */
export function entries(from: number, count: number, term: number, bytes = 16): Entry[] {
  return Array.from({ length: count }, (_, i) => {
    const index = from + i;
    const data = Buffer.alloc(bytes, index & 0xff);
    if (bytes >= 8) data.writeDoubleBE(index, 0);
    return { index, term, type: index % 7 === 3 ? EntryType.ConfChange : EntryType.Normal, data };
  });
}

export const bytes = (text: string): Uint8Array => Buffer.from(text, 'latin1');
export const text = (data: Uint8Array | undefined): string | undefined => (data === undefined ? undefined : Buffer.from(data).toString('latin1'));
