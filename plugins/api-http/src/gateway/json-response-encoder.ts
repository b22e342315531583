import { encodeBase64 } from './base64-bytes.js';
import { goJsonString } from './go-json-string.js';
import type { FieldSchema, MessageSchema } from './proto-schema.js';

/*
 * etcd's wire objects to JSON as etcd 3.4's gateway writes them (grpc-gateway v1's JSONPb with
 * OrigName, golang/protobuf's jsonpb): fields under their .proto names, in declaration order;
 * 64-bit integers as strings, bytes as standard base64, enums by name; proto3 defaults (0, "",
 * false, empty bytes and lists, absent messages) left out, except the member a oneof names.
 */

const isZeroInteger = (value: unknown): boolean => value === 0 || value === '0' || value === '' || value === 0n;

function nonFinite(n: number): string | undefined {
  if (Number.isNaN(n)) return '"NaN"';
  if (n === Infinity) return '"Infinity"';
  if (n === -Infinity) return '"-Infinity"';
  return undefined;
}

/** One value of `field` as JSON (an element, for a repeated field). */
function encodeValue(field: FieldSchema, value: unknown): string {
  const type = field.type;
  switch (type.kind) {
    case 'message':
      return encodeJsonMessage(type.message, value as object);
    case 'enum': {
      const name = type.enum.names.get(value as number);
      return name === undefined ? String(value) : `"${name}"`;
    }
    case 'scalar':
      switch (type.scalar) {
        case 'int64':
        case 'uint64':
          return `"${String(value)}"`;
        case 'int32':
        case 'uint32':
          return String(value);
        case 'double':
        case 'float':
          return nonFinite(value as number) ?? String(value);
        case 'bool':
          return value === true ? 'true' : 'false';
        case 'string':
          return goJsonString(value as string);
        case 'bytes':
          return `"${encodeBase64(value as Uint8Array)}"`;
      }
  }
}

/** Whether a singular field holds its proto3 default (and so is left out). */
function isDefault(field: FieldSchema, value: unknown): boolean {
  const type = field.type;
  if (type.kind === 'message') return false;
  if (type.kind === 'enum') return value === 0;
  switch (type.scalar) {
    case 'int64':
    case 'uint64':
    case 'int32':
    case 'uint32':
      return isZeroInteger(value);
    case 'double':
    case 'float':
      return value === 0;
    case 'bool':
      return value !== true;
    case 'string':
      return value === '';
    case 'bytes':
      return (value as Uint8Array).length === 0;
  }
}

/** A wire object (see the core's wire types) of `schema` as etcd's gateway writes it. */
export function encodeJsonMessage(schema: MessageSchema, message: object): string {
  const values = message as Record<string, unknown>;
  let out = '';
  for (const field of schema.fields) {
    const value = values[field.name];
    if (value === undefined || value === null) continue;
    let json: string;
    if (field.repeated) {
      const items = value as readonly unknown[];
      if (items.length === 0) continue;
      json = `[${items.map((item) => encodeValue(field, item)).join(',')}]`;
    } else {
      if (field.oneof === undefined && isDefault(field, value)) continue;
      json = encodeValue(field, value);
    }
    out += `${out === '' ? '' : ','}"${field.name}":${json}`;
  }
  return `{${out}}`;
}
