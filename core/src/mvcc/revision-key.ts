/**
 * Backend keys of the MVCC state. Records live under their revision, so they sort in history
 * order: 0x01 | main revision (u64 BE) | sub revision (u32 BE). Metadata lives under 0x00.
 */
export const RECORD_PREFIX = 0x01;
export const META_PREFIX = 0x00;

export interface Revision {
  /** The store revision of the write transaction. */
  readonly main: number;
  /** The operation's position inside that transaction. */
  readonly sub: number;
}

const TWO_POW_32 = 2 ** 32;

/**
 * Writes a non-negative safe integer as a u64, big-endian, as two u32 halves: without a BigInt
 * per field (the write path encodes several per put). Anything else goes the BigInt way, which
 * refuses it as before.
 */
export function writeU64BE(out: Buffer, n: number, offset: number): void {
  if (Number.isSafeInteger(n) && n >= 0) {
    out.writeUInt32BE(Math.floor(n / TWO_POW_32), offset);
    out.writeUInt32BE(n >>> 0, offset + 4);
  } else {
    out.writeBigUInt64BE(BigInt(n), offset);
  }
}

export function encodeRevisionKey(rev: Revision): Uint8Array {
  const out = Buffer.allocUnsafe(13);
  out[0] = RECORD_PREFIX;
  writeU64BE(out, rev.main, 1);
  out.writeUInt32BE(rev.sub, 9);
  return out;
}

export function decodeRevisionKey(key: Uint8Array): Revision {
  const b = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  if (b.length !== 13 || b[0] !== RECORD_PREFIX) throw new Error(`not an MVCC record key (${b.length} bytes)`);
  return { main: Number(b.readBigUInt64BE(1)), sub: b.readUInt32BE(9) };
}

/** Bounds of every record key (gte, lt). */
export const RECORDS_START = Uint8Array.of(RECORD_PREFIX);
export const RECORDS_END = Uint8Array.of(RECORD_PREFIX + 1);

/** A revision as a map key. */
export const revisionKeyString = (r: Revision): string => `${r.main}:${r.sub}`;

/** First key of the records of revision `main` (inclusive bound for range scans). */
export function revisionLowerBound(main: number): Uint8Array {
  return encodeRevisionKey({ main, sub: 0 });
}

export function metaKey(name: string): Uint8Array {
  return Buffer.concat([Buffer.from([META_PREFIX]), Buffer.from(name, 'utf8')]);
}

export function encodeU64(n: number): Uint8Array {
  const b = Buffer.allocUnsafe(8);
  writeU64BE(b, n, 0);
  return b;
}

export function decodeU64(b: Uint8Array, what: string): number {
  if (b.length !== 8) throw new Error(`MVCC metadata ${what} is corrupt (${b.length} bytes, expected 8)`);
  return Number(Buffer.from(b.buffer, b.byteOffset, 8).readBigUInt64BE(0));
}
