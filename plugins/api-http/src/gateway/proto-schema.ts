import { join } from 'node:path';
import protobuf from 'protobufjs';
import { ETCD_PROTO_FILES, etcdProtoDir } from '@cairn/core';

/*
 * etcd's messages as the gateway's JSON codec needs them, read by reflection from the core's
 * .proto files: each field's proto name and lowerCamel JSON name, its kind, and how it encodes
 * (for the --max-request-bytes check, which etcd applies to the protobuf size).
 */

/** How a scalar is written in JSON and read from it. */
export type ScalarKind = 'int64' | 'uint64' | 'int32' | 'uint32' | 'double' | 'float' | 'bool' | 'string' | 'bytes';

/** How a value is laid out in protobuf's encoding, for its size. */
export type WireEncoding = 'varint' | 'zigzag' | 'fixed32' | 'fixed64' | 'length';

export interface EnumSchema {
  /** Go's name of the enum type (etcd's gateway names it so in errors), e.g. `etcdserverpb.RangeRequest_SortOrder`. */
  readonly goName: string;
  readonly numbers: ReadonlyMap<string, number>;
  readonly names: ReadonlyMap<number, string>;
}

export interface FieldSchema {
  /** The .proto name: the name on the wire objects and in etcd's JSON answers. */
  readonly name: string;
  /** protoc's lowerCamel JSON name, accepted in requests as well. */
  readonly jsonName: string;
  readonly number: number;
  readonly repeated: boolean;
  /** The oneof this field is a member of (its name is the virtual field naming the member set). */
  readonly oneof: string | undefined;
  readonly type:
    | { readonly kind: 'scalar'; readonly scalar: ScalarKind }
    | { readonly kind: 'enum'; readonly enum: EnumSchema }
    | { readonly kind: 'message'; readonly message: MessageSchema };
  readonly encoding: WireEncoding;
  /** Bytes of the field's key (field number and wire type) on the wire. */
  readonly tagBytes: number;
}

export interface MessageSchema {
  readonly fullName: string;
  /** Go's name of the message type, e.g. `etcdserverpb.RangeRequest` (as errors name it). */
  readonly goName: string;
  /** In declaration order: the order etcd's gateway writes them in. */
  readonly fields: readonly FieldSchema[];
  /** Fields by their proto name and by their JSON name. */
  readonly byJsonKey: ReadonlyMap<string, FieldSchema>;
}

export interface MethodSchema {
  /** `etcdserverpb.KV/Range`. */
  readonly name: string;
  readonly request: MessageSchema;
  readonly response: MessageSchema;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

const SCALARS: Readonly<Record<string, { readonly scalar: ScalarKind; readonly encoding: WireEncoding }>> = {
  int64: { scalar: 'int64', encoding: 'varint' },
  sint64: { scalar: 'int64', encoding: 'zigzag' },
  sfixed64: { scalar: 'int64', encoding: 'fixed64' },
  uint64: { scalar: 'uint64', encoding: 'varint' },
  fixed64: { scalar: 'uint64', encoding: 'fixed64' },
  int32: { scalar: 'int32', encoding: 'varint' },
  sint32: { scalar: 'int32', encoding: 'zigzag' },
  sfixed32: { scalar: 'int32', encoding: 'fixed32' },
  uint32: { scalar: 'uint32', encoding: 'varint' },
  fixed32: { scalar: 'uint32', encoding: 'fixed32' },
  double: { scalar: 'double', encoding: 'fixed64' },
  float: { scalar: 'float', encoding: 'fixed32' },
  bool: { scalar: 'bool', encoding: 'varint' },
  string: { scalar: 'string', encoding: 'length' },
  bytes: { scalar: 'bytes', encoding: 'length' },
};

/** protoc's JSON name: underscores dropped, the letter after each one upper-cased. */
export function protoJsonName(name: string): string {
  return name.replace(/_+([a-zA-Z0-9]?)/g, (_all, next: string) => next.toUpperCase());
}

/** `.etcdserverpb.RangeRequest.SortOrder` → `etcdserverpb.RangeRequest_SortOrder`, the Go type gogo generates. */
function goName(fullName: string): string {
  const [pkg, ...rest] = fullName.replace(/^\./, '').split('.');
  return `${pkg}.${rest.join('_')}`;
}

export const varintBytes = (n: number): number => {
  let size = 1;
  for (let v = n; v >= 0x80; v = Math.floor(v / 0x80)) size++;
  return size;
};

/** etcd's services and messages, loaded once from the core's .proto files. */
export class EtcdProtoSchemas {
  private readonly root: protobuf.Root;
  private readonly messages = new Map<string, MessageSchema>();
  private readonly enums = new Map<string, EnumSchema>();
  private readonly methods = new Map<string, MethodSchema>();

  constructor(protoDir: string = etcdProtoDir()) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => join(protoDir, target);
    root.loadSync([...ETCD_PROTO_FILES], { keepCase: true });
    root.resolveAll();
    this.root = root;
  }

  /** A method by its gRPC name without the leading slash, e.g. `etcdserverpb.KV/Range`. */
  method(name: string): MethodSchema {
    const known = this.methods.get(name);
    if (known !== undefined) return known;
    const [serviceName, methodName] = name.split('/');
    const method = this.root.lookupService(serviceName!).methods[methodName!];
    if (method === undefined) throw new Error(`${name} is not a method in etcd's .proto files`);
    const schema: MethodSchema = {
      name,
      request: this.message(method.resolvedRequestType!),
      response: this.message(method.resolvedResponseType!),
      requestStream: method.requestStream === true,
      responseStream: method.responseStream === true,
    };
    this.methods.set(name, schema);
    return schema;
  }

  /** A message type by its full name (`mvccpb.Event`). */
  messageNamed(fullName: string): MessageSchema {
    return this.message(this.root.lookupType(fullName));
  }

  private message(type: protobuf.Type): MessageSchema {
    const known = this.messages.get(type.fullName);
    if (known !== undefined) return known;
    const fields: FieldSchema[] = [];
    const byJsonKey = new Map<string, FieldSchema>();
    const schema: MessageSchema = { fullName: type.fullName.slice(1), goName: goName(type.fullName), fields, byJsonKey };
    // Registered before its fields are read: messages nest themselves (a Txn holds Txns).
    this.messages.set(type.fullName, schema);
    for (const field of type.fieldsArray) {
      const compiled = this.field(type, field);
      fields.push(compiled);
      byJsonKey.set(compiled.name, compiled);
      byJsonKey.set(compiled.jsonName, compiled);
    }
    return schema;
  }

  private field(type: protobuf.Type, field: protobuf.Field): FieldSchema {
    if (field.map) throw new Error(`${type.fullName}.${field.name}: map fields are not in etcd's API`);
    const resolved = field.resolvedType;
    const head = { name: field.name, jsonName: protoJsonName(field.name), number: field.id, repeated: field.repeated, oneof: field.partOf?.name };
    if (resolved instanceof protobuf.Type) {
      return { ...head, type: { kind: 'message', message: this.message(resolved) }, encoding: 'length', tagBytes: varintBytes(field.id * 8 + 2) };
    }
    if (resolved instanceof protobuf.Enum) {
      // A packed repeated enum (proto3's default) is one length-delimited field.
      const wireType = field.repeated ? 2 : 0;
      return { ...head, type: { kind: 'enum', enum: this.enumSchema(resolved) }, encoding: 'varint', tagBytes: varintBytes(field.id * 8 + wireType) };
    }
    const scalar = SCALARS[field.type];
    if (scalar === undefined) throw new Error(`${type.fullName}.${field.name}: unknown type ${field.type}`);
    const packed = field.repeated && scalar.encoding !== 'length';
    const wireType = packed || scalar.encoding === 'length' ? 2 : scalar.encoding === 'fixed64' ? 1 : scalar.encoding === 'fixed32' ? 5 : 0;
    return { ...head, type: { kind: 'scalar', scalar: scalar.scalar }, encoding: scalar.encoding, tagBytes: varintBytes(field.id * 8 + wireType) };
  }

  private enumSchema(type: protobuf.Enum): EnumSchema {
    const known = this.enums.get(type.fullName);
    if (known !== undefined) return known;
    const numbers = new Map(Object.entries(type.values));
    const names = new Map<number, string>();
    for (const [name, number] of numbers) if (!names.has(number)) names.set(number, name);
    const schema: EnumSchema = { goName: goName(type.fullName), numbers, names };
    this.enums.set(type.fullName, schema);
    return schema;
  }
}
