import { Base64Error, decodeBase64 } from './base64-bytes.js';
import { JsonSyntaxError, parseJsonText, type JsonValue } from './json-text.js';
import { varintBytes, type FieldSchema, type MessageSchema, type ScalarKind } from './proto-schema.js';

/*
 * Request JSON to etcd's wire objects, strictly, as etcd 3.4's gateway reads it (grpc-gateway v1
 * with golang/protobuf's jsonpb): a field by its proto name or its lowerCamel JSON name; 64-bit
 * integers as strings or numbers; bytes as base64; enums by name or number; null as absent. A
 * wrong type, bad base64 or an unknown field is an error worded as Go words it. The wire object
 * has the shape the core's codecs take (proto3 defaults filled in, oneof named), and the decoder
 * adds up the message's protobuf size as it goes, for etcd's --max-request-bytes check.
 */

/** A request that does not fit its message: etcd's gateway answers it InvalidArgument with this text. */
export class RequestDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RequestDecodeError';
  }
}

/** A decoded request and its size in protobuf's encoding. */
export interface DecodedMessage {
  readonly message: Record<string, unknown>;
  readonly size: number;
}

interface DecodedValue {
  readonly value: unknown;
  /** Encoded bytes of the value alone (no key); 0 for a proto3 default. */
  readonly size: number;
}

const EMPTY_BYTES = Buffer.alloc(0);

const INTEGER_RANGES: Readonly<Record<'int64' | 'uint64' | 'int32' | 'uint32', readonly [bigint, bigint]>> = {
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
};

const GO_SCALAR_TYPES: Readonly<Record<ScalarKind, string>> = {
  int64: 'int64',
  uint64: 'uint64',
  int32: 'int32',
  uint32: 'uint32',
  double: 'float64',
  float: 'float32',
  bool: 'bool',
  string: 'string',
  bytes: '[]uint8',
};

/** Go's words for a JSON value of the wrong kind ("number" alone: the text is named only when the number itself is wrong). */
function cannotUnmarshal(value: JsonValue, goType: string): RequestDecodeError {
  return new RequestDecodeError(`json: cannot unmarshal ${value.kind} into Go value of type ${goType}`);
}

function decodeError(err: unknown): RequestDecodeError {
  if (err instanceof RequestDecodeError) return err;
  if (err instanceof JsonSyntaxError || err instanceof Base64Error) return new RequestDecodeError(err.message);
  throw err;
}

/** Encoded bytes of a varint holding `n` (negative int32/int64 take ten: they are sign-extended). */
function varintSize(n: bigint): number {
  if (n < 0n) return 10;
  if (n < 0x80n) return 1;
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? varintBytes(Number(n)) : Math.ceil(n.toString(2).length / 7);
}

function encodedIntegerSize(n: bigint, field: FieldSchema): number {
  switch (field.encoding) {
    case 'fixed32':
      return 4;
    case 'fixed64':
      return 8;
    case 'zigzag':
      return varintSize(n < 0n ? -2n * n - 1n : 2n * n);
    default:
      return varintSize(n);
  }
}

/** An integer given as a JSON number or a string holding one (jsonpb trims the quotes and reads the rest as JSON). */
function decodeInteger(raw: JsonValue, scalar: 'int64' | 'uint64' | 'int32' | 'uint32', field: FieldSchema): DecodedValue {
  const value = raw.kind === 'string' ? parseJsonText(raw.value) : raw;
  if (value.kind === 'null') return { value: scalar === 'int64' || scalar === 'uint64' ? '0' : 0, size: 0 };
  if (value.kind !== 'number') throw cannotUnmarshal(value, GO_SCALAR_TYPES[scalar]);
  const [min, max] = INTEGER_RANGES[scalar];
  const n = /^-?[0-9]+$/.test(value.text) ? BigInt(value.text) : undefined;
  if (n === undefined || n < min || n > max)
    throw new RequestDecodeError(`json: cannot unmarshal number ${value.text} into Go value of type ${GO_SCALAR_TYPES[scalar]}`);
  const size = n === 0n ? 0 : encodedIntegerSize(n, field);
  return { value: scalar === 'int64' || scalar === 'uint64' ? n.toString() : Number(n), size };
}

const NON_FINITE: Readonly<Record<string, number>> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

function decodeFloat(raw: JsonValue, scalar: 'double' | 'float'): DecodedValue {
  if (raw.kind === 'string' && raw.value in NON_FINITE) return { value: NON_FINITE[raw.value], size: scalar === 'double' ? 8 : 4 };
  const value = raw.kind === 'string' ? parseJsonText(raw.value) : raw;
  if (value.kind === 'null') return { value: 0, size: 0 };
  if (value.kind !== 'number') throw cannotUnmarshal(value, GO_SCALAR_TYPES[scalar]);
  const n = Number(value.text);
  return { value: n, size: n === 0 ? 0 : scalar === 'double' ? 8 : 4 };
}

function decodeScalar(raw: JsonValue, scalar: ScalarKind, field: FieldSchema): DecodedValue {
  switch (scalar) {
    case 'int64':
    case 'uint64':
    case 'int32':
    case 'uint32':
      return decodeInteger(raw, scalar, field);
    case 'double':
    case 'float':
      return decodeFloat(raw, scalar);
    case 'bool':
      if (raw.kind !== 'bool') throw cannotUnmarshal(raw, 'bool');
      return { value: raw.value, size: raw.value ? 1 : 0 };
    case 'string': {
      if (raw.kind !== 'string') throw cannotUnmarshal(raw, 'string');
      const length = Buffer.byteLength(raw.value);
      return { value: raw.value, size: length === 0 ? 0 : varintBytes(length) + length };
    }
    case 'bytes': {
      if (raw.kind !== 'string') throw cannotUnmarshal(raw, '[]uint8');
      const bytes = decodeBase64(raw.value);
      return { value: bytes, size: bytes.length === 0 ? 0 : varintBytes(bytes.length) + bytes.length };
    }
  }
}

function decodeValue(raw: JsonValue, field: FieldSchema): DecodedValue {
  const type = field.type;
  switch (type.kind) {
    case 'scalar':
      return decodeScalar(raw, type.scalar, field);
    case 'enum': {
      if (raw.kind === 'string') {
        const number = type.enum.numbers.get(raw.value);
        if (number === undefined) throw new RequestDecodeError(`unknown value ${JSON.stringify(raw.value)} for enum ${type.enum.goName}`);
        return { value: number, size: number === 0 ? 0 : varintSize(BigInt(number)) };
      }
      if (raw.kind !== 'number') throw cannotUnmarshal(raw, type.enum.goName);
      // Open enums, as proto3's: any int32 is kept, named or not.
      const n = /^-?[0-9]+$/.test(raw.text) ? BigInt(raw.text) : undefined;
      if (n === undefined || n < INTEGER_RANGES.int32[0] || n > INTEGER_RANGES.int32[1]) {
        throw new RequestDecodeError(`json: cannot unmarshal number ${raw.text} into Go value of type ${type.enum.goName}`);
      }
      return { value: Number(n), size: n === 0n ? 0 : varintSize(n) };
    }
    case 'message': {
      const decoded = decodeMessageValue(type.message, raw);
      return { value: decoded.message, size: varintBytes(decoded.size) + decoded.size };
    }
  }
}

/** The proto3 default of a field, as the core's wire types carry it. */
function defaultOf(field: FieldSchema): unknown {
  if (field.repeated) return [];
  const type = field.type;
  if (type.kind === 'message') return null;
  if (type.kind === 'enum') return 0;
  switch (type.scalar) {
    case 'int64':
    case 'uint64':
      return '0';
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'bytes':
      return EMPTY_BYTES;
    default:
      return 0;
  }
}

function defaultsOf(schema: MessageSchema): Record<string, unknown> {
  const message: Record<string, unknown> = {};
  for (const field of schema.fields) if (field.oneof === undefined) message[field.name] = defaultOf(field);
  return message;
}

/** Encoded bytes of a default value written anyway (a oneof member, a repeated element): a zero varint, an empty length, a fixed width. */
function defaultValueSize(field: FieldSchema): number {
  return field.encoding === 'fixed32' ? 4 : field.encoding === 'fixed64' ? 8 : 1;
}

/** One field's value and its encoded size, key included; a repeated scalar is packed, as proto3 packs it. */
function decodeField(raw: JsonValue, field: FieldSchema): DecodedValue {
  if (!field.repeated) {
    const decoded = decodeValue(raw, field);
    if (decoded.size > 0) return { value: decoded.value, size: field.tagBytes + decoded.size };
    // A proto3 default is not on the wire, unless it is the member a oneof names.
    return { value: decoded.value, size: field.oneof !== undefined ? field.tagBytes + defaultValueSize(field) : 0 };
  }
  if (raw.kind !== 'array') throw cannotUnmarshal(raw, '[]json.RawMessage');
  const single: FieldSchema = { ...field, repeated: false };
  const packed = field.type.kind !== 'message' && field.encoding !== 'length';
  const values: unknown[] = [];
  let size = 0;
  for (const item of raw.items) {
    const decoded =
      item.kind === 'null' ? { value: field.type.kind === 'message' ? defaultsOf(field.type.message) : defaultOf(single), size: 0 } : decodeValue(item, field);
    values.push(decoded.value);
    // Every element is written, defaults included.
    const itemSize = decoded.size > 0 ? decoded.size : defaultValueSize(field);
    size += packed ? itemSize : field.tagBytes + itemSize;
  }
  if (packed && values.length > 0) size = field.tagBytes + varintBytes(size) + size;
  return { value: values, size };
}

function decodeMessageValue(schema: MessageSchema, raw: JsonValue | undefined): DecodedMessage {
  if (raw === undefined || raw.kind === 'null') return { message: defaultsOf(schema), size: 0 };
  if (raw.kind !== 'object') throw cannotUnmarshal(raw, 'map[string]json.RawMessage');
  const message = defaultsOf(schema);
  let size = 0;
  for (const field of schema.fields) {
    // Both names given: jsonpb takes the JSON name's value.
    const value = raw.members.get(field.jsonName) ?? raw.members.get(field.name);
    if (value === undefined || value.kind === 'null') continue;
    const decoded = decodeField(value, field);
    message[field.name] = decoded.value;
    if (field.oneof !== undefined) message[field.oneof] = field.name;
    size += decoded.size;
  }
  for (const key of raw.members.keys()) {
    if (!schema.byJsonKey.has(key)) throw new RequestDecodeError(`unknown field ${JSON.stringify(key)} in ${schema.goName}`);
  }
  return { message, size };
}

/**
 * A request message from its JSON value (undefined: an empty body, which etcd's gateway takes as
 * an empty message). Throws RequestDecodeError.
 */
export function decodeJsonMessage(schema: MessageSchema, value: JsonValue | undefined): DecodedMessage {
  try {
    return decodeMessageValue(schema, value);
  } catch (err) {
    throw decodeError(err);
  }
}
