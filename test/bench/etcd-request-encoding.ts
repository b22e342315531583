/**
 * Just enough protobuf to write the etcd KV requests the load generator sends (field numbers from
 * etcd's rpc.proto). Hand-written so the generator spends its CPU on load, not on a codec.
 */

const TAG_LENGTH_DELIMITED = 2;
const TAG_VARINT = 0;

function varintLength(value: number): number {
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    n++;
  }
  return n;
}

function writeVarint(out: Buffer, at: number, value: number): number {
  while (value >= 0x80) {
    out[at++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  out[at++] = value;
  return at;
}

/** A message under construction: fields appended in order, then `finish()`. */
class MessageWriter {
  private readonly parts: Buffer[] = [];
  private size = 0;

  bytes(field: number, value: Uint8Array): this {
    const header = Buffer.allocUnsafe(1 + varintLength(field << 3) + varintLength(value.length));
    let at = writeVarint(header, 0, (field << 3) | TAG_LENGTH_DELIMITED);
    at = writeVarint(header, at, value.length);
    this.push(header.subarray(0, at));
    this.push(value instanceof Buffer ? value : Buffer.from(value.buffer, value.byteOffset, value.length));
    return this;
  }

  /** A non-negative varint field (enums, bools, positive ints). */
  uint(field: number, value: number): this {
    const out = Buffer.allocUnsafe(varintLength(field << 3) + varintLength(value));
    const end = writeVarint(out, writeVarint(out, 0, (field << 3) | TAG_VARINT), value);
    this.push(out.subarray(0, end));
    return this;
  }

  /** A negative int64 varint: ten bytes of two's complement. */
  negativeInt64(field: number, value: number): this {
    const head = Buffer.allocUnsafe(varintLength(field << 3));
    this.push(head.subarray(0, writeVarint(head, 0, (field << 3) | TAG_VARINT)));
    let bits = BigInt.asUintN(64, BigInt(value));
    const out = Buffer.allocUnsafe(10);
    for (let i = 0; i < 10; i++) {
      const byte = Number(bits & 0x7fn);
      bits >>= 7n;
      out[i] = bits > 0n ? byte | 0x80 : byte;
    }
    this.push(out);
    return this;
  }

  finish(): Buffer {
    return this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
  }

  private push(part: Buffer): void {
    this.parts.push(part);
    this.size += part.length;
  }
}

/** etcdserverpb.PutRequest{key = 1, value = 2}. */
export function encodePutRequest(key: Uint8Array, value: Uint8Array): Buffer {
  return new MessageWriter().bytes(1, key).bytes(2, value).finish();
}

/** etcdserverpb.RangeRequest{key = 1, serializable = 7}. */
export function encodeRangeRequest(key: Uint8Array, serializable: boolean): Buffer {
  const writer = new MessageWriter().bytes(1, key);
  if (serializable) writer.uint(7, 1);
  return writer.finish();
}

/**
 * etcdserverpb.TxnRequest: if version(key) > -1 (always true) then put(key, value) else
 * range(key). One compare, one op: the shape of a compare-and-swap.
 */
export function encodeCompareAndPutTxn(key: Uint8Array, value: Uint8Array): Buffer {
  // Compare{result = 1: GREATER, target = 2: VERSION (0, the default), key = 3, version = 4: -1}
  const compare = new MessageWriter().uint(1, 1).bytes(3, key).negativeInt64(4, -1).finish();
  const success = new MessageWriter().bytes(2, encodePutRequest(key, value)).finish();
  const failure = new MessageWriter().bytes(1, encodeRangeRequest(key, false)).finish();
  return new MessageWriter().bytes(1, compare).bytes(2, success).bytes(3, failure).finish();
}

/** etcdserverpb.AuthenticateRequest{name = 1, password = 2}. */
export function encodeAuthenticateRequest(name: string, password: string): Buffer {
  return new MessageWriter().bytes(1, Buffer.from(name, 'utf8')).bytes(2, Buffer.from(password, 'utf8')).finish();
}

/** The token (field 2) of an etcdserverpb.AuthenticateResponse; the header (field 1) is skipped. */
export function decodeAuthenticateToken(response: Buffer): string {
  let at = 0;
  const varint = (): number => {
    let value = 0;
    let shift = 1;
    for (;;) {
      const byte = response[at++]!;
      value += (byte & 0x7f) * shift;
      if (byte < 0x80) return value;
      shift *= 128;
    }
  };
  while (at < response.length) {
    const tag = varint();
    if ((tag & 7) !== TAG_LENGTH_DELIMITED) throw new Error(`AuthenticateResponse: unexpected wire type ${tag & 7}`);
    const length = varint();
    if (tag >>> 3 === 2) return response.subarray(at, at + length).toString('utf8');
    at += length;
  }
  throw new Error('AuthenticateResponse has no token');
}
