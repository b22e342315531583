/*
 * A small protobuf writer into one growing buffer. Fields are written only when the caller says
 * so, which lets a codec keep explicit presence (a `false` or `0` that was given is written, an
 * absent field is not). Nested messages reserve one length byte and move their body only when it
 * needs a longer length (128 bytes or more).
 */

const VARINT = 0;
const FIXED64 = 1;
const DELIMITED = 2;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function varintLength(value: number): number {
  let length = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    length++;
  }
  return length;
}

export class ProtoWriter {
  private buffer: Buffer;
  private position = 0;

  /** `sizeHint`: the bytes expected, so a message of known size is written without growing. */
  constructor(sizeHint = 64) {
    this.buffer = Buffer.allocUnsafe(Math.max(16, sizeHint));
  }

  /** The bytes written: a view of the writer's buffer, copied when that buffer is mostly unused. */
  finish(): Uint8Array {
    const used = this.buffer.subarray(0, this.position);
    return this.buffer.length > 1024 && this.position < this.buffer.length / 2 ? Uint8Array.prototype.slice.call(used) : used;
  }

  /** One raw byte (a format marker ahead of the message). */
  byte(value: number): this {
    this.reserve(1);
    this.buffer[this.position++] = value;
    return this;
  }

  /** A non-negative integer as a varint field. */
  uint(field: number, value: number): this {
    this.tag(field, VARINT);
    this.varint(value);
    return this;
  }

  /**
   * A JS number exactly: a safe integer as an int64 varint (negatives as 10 bytes, as protobuf
   * has it), anything else (a fraction) as a double in a 64-bit field of the same number.
   */
  number(field: number, value: number): this {
    if (Number.isSafeInteger(value)) {
      this.tag(field, VARINT);
      if (value >= 0) this.varint(value);
      else this.varint64(BigInt.asUintN(64, BigInt(value)));
    } else {
      this.tag(field, FIXED64);
      this.reserve(8);
      this.buffer.writeDoubleLE(value, this.position);
      this.position += 8;
    }
    return this;
  }

  /** An int64 (lease IDs). Values outside int64 are refused rather than silently wrapped. */
  int64(field: number, value: bigint): this {
    if (value < INT64_MIN || value > INT64_MAX) throw new RangeError(`${value} does not fit in an int64`);
    this.tag(field, VARINT);
    if (value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER)) this.varint(Number(value));
    else this.varint64(BigInt.asUintN(64, value));
    return this;
  }

  bool(field: number, value: boolean): this {
    this.tag(field, VARINT);
    this.reserve(1);
    this.buffer[this.position++] = value ? 1 : 0;
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, DELIMITED);
    this.varint(value.byteLength);
    this.reserve(value.byteLength);
    this.buffer.set(value, this.position);
    this.position += value.byteLength;
    return this;
  }

  string(field: number, value: string): this {
    const length = Buffer.byteLength(value, 'utf8');
    this.tag(field, DELIMITED);
    this.varint(length);
    this.reserve(length);
    this.position += this.buffer.write(value, this.position, length, 'utf8');
    return this;
  }

  /** A nested message whose body `write` puts in this writer. */
  message(field: number, write: (writer: this) => void): this {
    this.tag(field, DELIMITED);
    this.reserve(1);
    const lengthAt = this.position++;
    write(this);
    const length = this.position - lengthAt - 1;
    if (length < 0x80) {
      this.buffer[lengthAt] = length;
      return this;
    }
    const extra = varintLength(length) - 1;
    this.reserve(extra);
    this.buffer.copyWithin(lengthAt + 1 + extra, lengthAt + 1, this.position);
    this.position += extra;
    const end = this.position;
    this.position = lengthAt;
    this.varint(length);
    this.position = end;
    return this;
  }

  private tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  private varint(value: number): void {
    this.reserve(10);
    const buffer = this.buffer;
    while (value >= 0x80) {
      buffer[this.position++] = (value % 128) | 0x80;
      value = Math.floor(value / 128);
    }
    buffer[this.position++] = value;
  }

  /** An unsigned 64-bit varint given as a bigint in [0, 2^64). */
  private varint64(value: bigint): void {
    let low = Number(value & 0xffffffffn);
    let high = Number(value >> 32n);
    this.reserve(10);
    const buffer = this.buffer;
    while (high > 0 || low >= 0x80) {
      buffer[this.position++] = (low & 0x7f) | 0x80;
      low = (low >>> 7) | ((high & 0x7f) << 25);
      low >>>= 0;
      high >>>= 7;
    }
    buffer[this.position++] = low;
  }

  private reserve(bytes: number): void {
    if (this.position + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.position + bytes));
    this.buffer.copy(grown, 0, 0, this.position);
    this.buffer = grown;
  }
}
