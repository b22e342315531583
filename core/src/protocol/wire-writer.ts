const TWO_32 = 0x1_0000_0000;

/** Sizes of the peer wire's field encodings, so an encoder allocates one buffer up front. */
export const wireSize = {
  u8: 1,
  u16: 2,
  u32: 4,
  u64: 8,
  /** u16 byte length, then UTF-8. */
  string: (s: string): number => 2 + Buffer.byteLength(s, 'utf8'),
  /** u32 byte length, then the bytes. */
  bytes: (b: Uint8Array): number => 4 + b.byteLength,
};

/** Writes big-endian fields into a buffer allocated to the exact size (a RangeError when a field overruns it). */
export class WireWriter {
  private offset: number;

  constructor(
    readonly buffer: Buffer,
    start = 0,
  ) {
    this.offset = start;
  }

  get position(): number {
    return this.offset;
  }

  u8(v: number): void {
    this.offset = this.buffer.writeUInt8(v, this.offset);
  }

  u16(v: number): void {
    this.offset = this.buffer.writeUInt16BE(v, this.offset);
  }

  u32(v: number): void {
    this.offset = this.buffer.writeUInt32BE(v, this.offset);
  }

  /** A non-negative safe integer (Raft terms and indexes) as a 64-bit unsigned field. */
  u64(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`not a non-negative safe integer: ${v}`);
    this.offset = this.buffer.writeUInt32BE(Math.floor(v / TWO_32), this.offset);
    this.offset = this.buffer.writeUInt32BE(v >>> 0, this.offset);
  }

  /** Written in place and measured after: one pass over the string, not two. */
  string(s: string): void {
    const length = this.buffer.write(s, this.offset + 2, 'utf8');
    if (length > 0xffff) throw new RangeError('string longer than 65535 bytes');
    this.buffer.writeUInt16BE(length, this.offset);
    this.offset += 2 + length;
  }

  bytes(b: Uint8Array): void {
    this.offset = this.buffer.writeUInt32BE(b.byteLength, this.offset);
    this.raw(b);
  }

  /** Bytes with no length before them (a payload that runs to the end of its frame). */
  raw(b: Uint8Array): void {
    this.buffer.set(b, this.offset);
    this.offset += b.byteLength;
  }
}
