/**
 * Just enough protobuf to read what a watcher needs from an etcdserverpb.WatchResponse (field
 * numbers from etcd's rpc.proto and kv.proto): whether it confirms a creation, and the key and
 * value of each event.
 */

export interface WatchedEvent {
  readonly key: Buffer;
  readonly value: Buffer;
}

export interface WatchResponseFields {
  readonly created: boolean;
  readonly canceled: boolean;
  readonly events: readonly WatchedEvent[];
}

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/** Calls `field(number, wireType, value)` for each field of one message; varints as numbers. */
function forEachField(bytes: Buffer, field: (number: number, value: number | Buffer) => void): void {
  let at = 0;
  const varint = (): number => {
    let value = 0;
    for (let scale = 1; ; scale *= 128) {
      if (at >= bytes.length) throw new Error('truncated varint');
      const b = bytes[at++]!;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
    }
  };
  while (at < bytes.length) {
    const tag = varint();
    const wire = tag & 7;
    const number = Math.floor(tag / 8);
    if (wire === VARINT) field(number, varint());
    else if (wire === LENGTH_DELIMITED) {
      const length = varint();
      if (at + length > bytes.length) throw new Error('truncated field');
      field(number, bytes.subarray(at, at + length));
      at += length;
    } else if (wire === FIXED64) at += 8;
    else if (wire === FIXED32) at += 4;
    else throw new Error(`unexpected wire type ${wire}`);
  }
}

/** KeyValue{key = 1, value = 5} of Event{kv = 2}. */
function decodeEvent(bytes: Buffer): WatchedEvent {
  let key: Buffer = Buffer.alloc(0);
  let value: Buffer = Buffer.alloc(0);
  forEachField(bytes, (n, v) => {
    if (n !== 2 || !Buffer.isBuffer(v)) return;
    forEachField(v, (kn, kv) => {
      if (kn === 1 && Buffer.isBuffer(kv)) key = kv;
      if (kn === 5 && Buffer.isBuffer(kv)) value = kv;
    });
  });
  return { key, value };
}

/** WatchResponse{created = 3, canceled = 4, events = 11}. */
export function decodeWatchResponse(bytes: Buffer): WatchResponseFields {
  let created = false;
  let canceled = false;
  const events: WatchedEvent[] = [];
  forEachField(bytes, (n, v) => {
    if (n === 3 && v === 1) created = true;
    if (n === 4 && v === 1) canceled = true;
    if (n === 11 && Buffer.isBuffer(v)) events.push(decodeEvent(v));
  });
  return { created, canceled, events };
}
