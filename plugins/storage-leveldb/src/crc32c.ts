/**
 * CRC-32C (Castagnoli), the checksum LevelDB puts on its log records and table blocks. Node has
 * only the IEEE CRC-32, so this is the table-driven one, used to check LevelDB's own files before
 * LevelDB opens them.
 */

const TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** CRC-32C of `data`, continuing from `crc` (the CRC of what came before). */
export function crc32c(data: Uint8Array, crc = 0): number {
  let c = ~crc;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** LevelDB stores CRCs masked, so a CRC of data that itself holds CRCs does not degenerate. */
export function unmaskLevelDbCrc(masked: number): number {
  const rot = (masked - 0xa282ead8) >>> 0;
  return ((rot >>> 17) | (rot << 15)) >>> 0;
}
