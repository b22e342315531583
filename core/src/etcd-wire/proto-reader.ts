/*
 * A small protobuf reader over one message (or a nested one: `message()` gives a reader over its
 * bytes). Bytes fields are copied out, so what is decoded never keeps the whole input alive.
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_DELIMITED = 2;
const WIRE_FIXED32 = 5;

export class ProtoReader {
  private position: number;
  private readonly end: number;
  /** The wire type of the field `next()` returned last. */
  wireType = 0;

  constructor(
    private readonly bytes: Uint8Array,
    start = 0,
    end = bytes.byteLength,
  ) {
    this.position = start;
    this.end = end;
  }

  /** The next field's number, or 0 at the end of the message. */
  next(): number {
    if (this.position >= this.end) return 0;
    const tag = this.varint();
    this.wireType = tag % 8;
    const field = Math.floor(tag / 8);
    if (field === 0) throw new Error('protobuf field number 0');
    return field;
  }

  /** A varint field as a number (exact up to 2^53; int64 negatives go through `int64`). */
  uint(): number {
    this.expect(WIRE_VARINT);
    return this.varint();
  }

  /** A field written by ProtoWriter.number: an int64 varint or a double. */
  number(): number {
    if (this.wireType === WIRE_FIXED64) {
      this.need(8);
      const view = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + this.position, 8);
      this.position += 8;
      return view.readDoubleLE(0);
    }
    this.expect(WIRE_VARINT);
    const start = this.position;
    const value = this.varint();
    // A 10-byte varint is a negative int64.
    return this.position - start === 10 ? Number(BigInt.asIntN(64, this.varint64At(start))) : value;
  }

  int64(): bigint {
    this.expect(WIRE_VARINT);
    const start = this.position;
    const value = this.varint();
    return value <= Number.MAX_SAFE_INTEGER ? BigInt(value) : BigInt.asIntN(64, this.varint64At(start));
  }

  bool(): boolean {
    return this.uint() !== 0;
  }

  bytesField(): Uint8Array {
    const length = this.length();
    // A plain Uint8Array copy (Buffer#slice would be a view of the input); short ones byte by
    // byte, which costs less than the view `set` needs.
    const out = new Uint8Array(length);
    const bytes = this.bytes;
    const start = this.position;
    if (length <= 64) for (let i = 0; i < length; i++) out[i] = bytes[start + i]!;
    else out.set(bytes.subarray(start, start + length));
    this.position += length;
    return out;
  }

  string(): string {
    const length = this.length();
    const out = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + this.position, length).toString('utf8');
    this.position += length;
    return out;
  }

  /** A reader over the nested message in this field. */
  message(): ProtoReader {
    const length = this.length();
    const nested = new ProtoReader(this.bytes, this.position, this.position + length);
    this.position += length;
    return nested;
  }

  /** Passes over a field this reader does not know (kept out, as protobuf allows). */
  skip(): void {
    switch (this.wireType) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.need(8);
        this.position += 8;
        return;
      case WIRE_DELIMITED:
        this.position += this.length();
        return;
      case WIRE_FIXED32:
        this.need(4);
        this.position += 4;
        return;
      default:
        throw new Error(`unsupported protobuf wire type ${this.wireType}`);
    }
  }

  private length(): number {
    this.expect(WIRE_DELIMITED);
    const length = this.varint();
    this.need(length);
    return length;
  }

  private expect(wireType: number): void {
    if (this.wireType !== wireType) throw new Error(`protobuf wire type ${this.wireType} where ${wireType} was expected`);
  }

  private need(bytes: number): void {
    if (this.position + bytes > this.end) throw new Error('truncated protobuf message');
  }

  /** A varint as a number; past 2^53 it is approximate (callers that care re-read it as a bigint). */
  private varint(): number {
    const bytes = this.bytes;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.position >= this.end) throw new Error('truncated protobuf varint');
      const byte = bytes[this.position++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
    throw new Error('protobuf varint longer than 10 bytes');
  }

  private varint64At(start: number): bigint {
    let value = 0n;
    let shift = 0n;
    for (let at = start; at < this.position; at++) {
      value |= BigInt(this.bytes[at]! & 0x7f) << shift;
      shift += 7n;
    }
    return BigInt.asUintN(64, value);
  }
}
