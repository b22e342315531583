import { HpackError } from './hpack-error.js';

/**
 * HPACK's Huffman code (RFC 7541 Appendix B), given by the bit length of each symbol's code:
 * symbols 0–255 are octets, 256 is EOS. The code is canonical (codes of one length are consecutive
 * in symbol order, shorter codes first), so the lengths determine every code.
 */
// prettier-ignore
const CODE_LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, //   0–31
   6, 10, 10, 12, 13,  6,  8, 11, 10, 10,  8, 11,  8,  6,  6,  6,  5,  5,  5,  6,  6,  6,  6,  6,  6,  6,  7,  8, 15,  6, 12, 10, //  32–63
  13,  6,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  8,  7,  8, 13, 19, 13, 14,  6, //  64–95
  15,  5,  6,  5,  6,  5,  6,  6,  6,  5,  7,  7,  6,  6,  6,  5,  6,  7,  6,  5,  5,  6,  7,  7,  7,  7,  7, 15, 11, 14, 13, 28, //  96–127
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 128–159
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 160–191
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 192–223
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 224–255
  30, // EOS
];

export const EOS = 256;

export interface HuffmanCode {
  readonly code: number;
  readonly length: number;
}

/** Every symbol's code, assigned canonically from CODE_LENGTHS. */
export const HUFFMAN_CODES: readonly HuffmanCode[] = (() => {
  const symbols = CODE_LENGTHS.map((length, symbol) => ({ symbol, length })).sort((a, b) => a.length - b.length || a.symbol - b.symbol);
  const codes: HuffmanCode[] = new Array<HuffmanCode>(CODE_LENGTHS.length);
  let code = 0;
  let length = symbols[0]!.length;
  for (const entry of symbols) {
    code *= 2 ** (entry.length - length);
    length = entry.length;
    codes[entry.symbol] = { code, length };
    code += 1;
  }
  return codes;
})();

/**
 * The decoder walks the code tree four bits at a time. For each inner node and each nibble the
 * tables give the node reached and the symbol completed on the way, if any (codes are at least 5
 * bits, so a nibble completes at most one).
 */
const NIBBLE_NEXT = new Uint8Array(256 * 16);
const NIBBLE_SYMBOL = new Int16Array(256 * 16);
const NO_SYMBOL = -1;
const HIT_EOS = -2;
/** Inner nodes where a string may end: reached by at most 7 one-bits, the start of EOS (§5.2). */
const MAY_END = new Uint8Array(256);

(() => {
  // Inner nodes are numbered from 0 (the root); a child < 0 is the leaf of symbol -child - 1.
  const children = new Int32Array(256 * 2);
  const depth = new Uint8Array(256);
  const onlyOnes = new Uint8Array(256);
  onlyOnes[0] = 1;
  let nodes = 1;
  HUFFMAN_CODES.forEach(({ code, length }, symbol) => {
    let node = 0;
    for (let bit = length - 1; bit > 0; bit--) {
      const b = Math.floor(code / 2 ** bit) & 1;
      if (children[node * 2 + b] === 0) {
        const child = nodes++;
        children[node * 2 + b] = child;
        depth[child] = depth[node]! + 1;
        onlyOnes[child] = onlyOnes[node]! & b;
      }
      node = children[node * 2 + b]!;
    }
    children[node * 2 + (code & 1)] = -symbol - 1;
  });
  for (let node = 0; node < 256; node++) {
    MAY_END[node] = onlyOnes[node]! && depth[node]! <= 7 ? 1 : 0;
    for (let nibble = 0; nibble < 16; nibble++) {
      let at = node;
      let symbol = NO_SYMBOL;
      for (let bit = 3; bit >= 0; bit--) {
        const child = children[at * 2 + ((nibble >> bit) & 1)]!;
        if (child >= 0) {
          at = child;
          continue;
        }
        symbol = -child - 1 === EOS ? HIT_EOS : -child - 1;
        at = 0;
        if (symbol === HIT_EOS) break;
      }
      NIBBLE_NEXT[node * 16 + nibble] = at;
      NIBBLE_SYMBOL[node * 16 + nibble] = symbol;
    }
  }
})();

/** The octets a Huffman-coded string literal stands for, as a latin1 string (one char per octet). */
export function huffmanDecode(encoded: Buffer): string {
  // The shortest code is 5 bits: at most 8/5 symbols per input octet.
  const out = Buffer.allocUnsafe(Math.ceil((encoded.length * 8) / 5));
  let written = 0;
  let node = 0;
  for (let i = 0; i < encoded.length; i++) {
    const octet = encoded[i]!;
    let slot = node * 16 + (octet >> 4);
    let symbol = NIBBLE_SYMBOL[slot]!;
    if (symbol >= 0) out[written++] = symbol;
    else if (symbol === HIT_EOS) throw new HpackError('Huffman: EOS inside a string literal');
    node = NIBBLE_NEXT[slot]!;
    slot = node * 16 + (octet & 0xf);
    symbol = NIBBLE_SYMBOL[slot]!;
    if (symbol >= 0) out[written++] = symbol;
    else if (symbol === HIT_EOS) throw new HpackError('Huffman: EOS inside a string literal');
    node = NIBBLE_NEXT[slot]!;
  }
  if (!MAY_END[node]) throw new HpackError('Huffman: padding is not a prefix of EOS or longer than 7 bits');
  return out.toString('latin1', 0, written);
}
