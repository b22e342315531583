import type { HeaderField } from './hpack-decoder.js';
import { STATIC_FIELD_INDEX, STATIC_NAME_INDEX } from './hpack-static-table.js';

/**
 * Encodes a header block that leaves the receiver's dynamic table untouched: fields found whole in
 * the static table by index, the rest as literals without indexing (never-indexed ones stay never
 * indexed, RFC 7541 §6.2.3), names by static index when they have one, strings raw. So the
 * receiver's table stays empty, whatever the original sender's encoder did.
 */
export function encodeHeaderBlock(fields: readonly HeaderField[]): Buffer {
  // Per field: at most 1 + 5 octets of name index or length, the name, 5 of value length, the value.
  let bound = 0;
  for (const field of fields) bound += field.name.length + field.value.length + 11;
  const out = Buffer.allocUnsafe(bound);
  let at = 0;
  for (const field of fields) {
    const whole = field.neverIndexed ? undefined : STATIC_FIELD_INDEX.get(`${field.name}\0${field.value}`);
    if (whole !== undefined) {
      at = writeInteger(out, at, whole, 7, 0x80);
      continue;
    }
    const nameIndex = STATIC_NAME_INDEX.get(field.name) ?? 0;
    at = writeInteger(out, at, nameIndex, 4, field.neverIndexed ? 0x10 : 0x00);
    if (nameIndex === 0) at = writeString(out, at, field.name);
    at = writeString(out, at, field.value);
  }
  return out.subarray(0, at);
}

/** An integer with an N-bit prefix (§5.1), the prefix octet's other bits set to `pattern`. */
function writeInteger(out: Buffer, at: number, value: number, prefixBits: number, pattern: number): number {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out[at++] = pattern | value;
    return at;
  }
  out[at++] = pattern | max;
  let rest = value - max;
  while (rest >= 0x80) {
    out[at++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  out[at++] = rest;
  return at;
}

/** A raw (not Huffman-coded) string literal of latin1 chars. */
function writeString(out: Buffer, at: number, text: string): number {
  at = writeInteger(out, at, text.length, 7, 0x00);
  return at + out.write(text, at, 'latin1');
}
