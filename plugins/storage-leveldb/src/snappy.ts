/**
 * Snappy decompression (the raw block format LevelDB compresses table blocks with), enough to read
 * a table's index blocks while checking its files. Throws on malformed input.
 */
export function snappyUncompress(input: Uint8Array): Uint8Array {
  let at = 0;
  const varint = (): number => {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (at >= input.length) throw new Error('snappy: truncated length');
      const byte = input[at++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
    }
    throw new Error('snappy: length varint too long');
  };
  const length = varint();
  if (length > 1 << 28) throw new Error(`snappy: implausible length ${length}`);
  const out = new Uint8Array(length);
  let pos = 0;
  const littleEndian = (bytes: number): number => {
    if (at + bytes > input.length) throw new Error('snappy: truncated tag');
    let value = 0;
    for (let i = 0; i < bytes; i++) value += input[at + i]! * 2 ** (8 * i);
    at += bytes;
    return value;
  };
  while (at < input.length) {
    const tag = input[at++]!;
    if ((tag & 3) === 0) {
      let literal = tag >>> 2;
      literal = literal < 60 ? literal + 1 : littleEndian(literal - 59) + 1;
      if (at + literal > input.length || pos + literal > length) throw new Error('snappy: literal out of bounds');
      out.set(input.subarray(at, at + literal), pos);
      at += literal;
      pos += literal;
      continue;
    }
    let copy: number;
    let offset: number;
    if ((tag & 3) === 1) {
      copy = 4 + ((tag >>> 2) & 7);
      offset = ((tag >>> 5) << 8) | littleEndian(1);
    } else if ((tag & 3) === 2) {
      copy = 1 + (tag >>> 2);
      offset = littleEndian(2);
    } else {
      copy = 1 + (tag >>> 2);
      offset = littleEndian(4);
    }
    if (offset === 0 || offset > pos || pos + copy > length) throw new Error('snappy: copy out of bounds');
    for (let i = 0; i < copy; i++, pos++) out[pos] = out[pos - offset]!;
  }
  if (pos !== length) throw new Error(`snappy: ${pos} bytes of ${length}`);
  return out;
}
