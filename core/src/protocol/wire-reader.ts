import { WireError } from './wire-error.js';

const TWO_32 = 0x1_0000_0000;
/** The largest high word of a 64-bit field that still gives a safe integer. */
const MAX_SAFE_HIGH = 0x1f_ffff;

/** Reads big-endian fields (as WireWriter writes them), turning every overrun or impossible value into a WireError. */
export class WireReader {
  private offset: number;
  private readonly buffer: Buffer;

  /** Reads `data` from `start`; a Buffer is read as it is, other bytes through a Buffer view (no copy). */
  constructor(data: Uint8Array, start = 0) {
    this.buffer = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.offset = start;
  }

  get remaining(): number {
    return this.buffer.byteLength - this.offset;
  }

  private need(n: number, what: string): void {
    if (this.remaining < n) throw new WireError(`truncated ${what}: need ${n} bytes, have ${this.remaining}`);
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.buffer.readUInt8(this.offset++);
  }

  u16(what = 'u16'): number {
    this.need(2, what);
    const v = this.buffer.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const v = this.buffer.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  u64(what = 'u64'): number {
    this.need(8, what);
    const high = this.buffer.readUInt32BE(this.offset);
    const low = this.buffer.readUInt32BE(this.offset + 4);
    if (high > MAX_SAFE_HIGH) throw new WireError(`${what} exceeds 2^53`);
    this.offset += 8;
    return high * TWO_32 + low;
  }

  string(what = 'string'): string {
    const length = this.u16(what);
    this.need(length, what);
    const s = this.buffer.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return s;
  }

  /** A copy, so a decoded message never pins the connection's read buffer. */
  bytes(what = 'bytes'): Uint8Array {
    const length = this.u32(what);
    this.need(length, what);
    const copy = new Uint8Array(length);
    copy.set(this.buffer.subarray(this.offset, this.offset + length));
    this.offset += length;
    return copy;
  }

  /** The next `length` bytes, not copied (the caller copies what it keeps). */
  slice(length: number, what: string): Buffer {
    this.need(length, what);
    const slice = this.buffer.subarray(this.offset, this.offset + length);
    this.offset += length;
    return slice;
  }

  /** The rest of the buffer, not copied. */
  rest(): Buffer {
    const tail = this.buffer.subarray(this.offset);
    this.offset = this.buffer.byteLength;
    return tail;
  }

  /** A payload must be consumed exactly; trailing bytes mean a peer speaks another format. */
  end(what: string): void {
    if (this.remaining !== 0) throw new WireError(`${this.remaining} unexpected trailing bytes after ${what}`);
  }
}
