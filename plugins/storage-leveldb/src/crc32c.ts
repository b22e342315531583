/**
 * LevelDB stores the CRC-32C of each log record and table block masked (rotated and offset), so
 * that a CRC over data that itself holds CRCs does not degenerate; this undoes the mask. The CRC
 * itself comes from @node-rs/crc32.
 */
export function unmaskLevelDbCrc(masked: number): number {
  const rot = (masked - 0xa282ead8) >>> 0;
  return ((rot >>> 17) | (rot << 15)) >>> 0;
}
