import { PermissionType, type Permission } from '../api/auth-types.js';

/** etcd's authpb.User as the auth store keeps it: `password` is a bcrypt hash (empty for a no-password user). */
export interface AuthUser {
  readonly name: string;
  readonly password: Uint8Array;
  /** Sorted, as etcd keeps them (it binary-searches for "root"). */
  readonly roles: readonly string[];
  readonly noPassword: boolean;
}

/** etcd's authpb.Role: permissions sorted by key, as etcd keeps them. */
export interface AuthRole {
  readonly name: string;
  readonly permissions: readonly Permission[];
}

export const ROOT_USER = 'root';
export const ROOT_ROLE = 'root';

export const hasRootRole = (user: AuthUser): boolean => user.roles.includes(ROOT_ROLE);

/*
 * authpb.User and authpb.Role in proto3 wire format, as etcd stores them in its authUsers and
 * authRoles buckets: the backend keeps them in this form, so a snapshot carries them unchanged and
 * an etcd snapshot's buckets restore as they are.
 */

const VARINT = 0;
const DELIMITED = 2;

function varint(value: number): number[] {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
  return out;
}

class ProtoWriter {
  private readonly parts: Uint8Array[] = [];
  bytes(field: number, value: Uint8Array): this {
    if (value.length > 0) this.parts.push(Uint8Array.from([...varint((field << 3) | DELIMITED), ...varint(value.length)]), value);
    return this;
  }
  /** A sub-message or a repeated string: written even when empty. */
  always(field: number, value: Uint8Array): this {
    this.parts.push(Uint8Array.from([...varint((field << 3) | DELIMITED), ...varint(value.length)]), value);
    return this;
  }
  number(field: number, value: number): this {
    if (value !== 0) this.parts.push(Uint8Array.from([...varint((field << 3) | VARINT), ...varint(value)]));
    return this;
  }
  finish(): Uint8Array {
    return Buffer.concat(this.parts);
  }
}

/** Fields of one message: [field number, varint value or bytes]. Unknown fields are kept out, as protobuf allows. */
function* protoFields(data: Uint8Array): Generator<[number, number | Uint8Array]> {
  let offset = 0;
  const readVarint = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (offset >= data.length) throw new Error('truncated protobuf varint');
      const byte = data[offset++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
  };
  while (offset < data.length) {
    const tag = readVarint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === VARINT) yield [field, readVarint()];
    else if (wire === DELIMITED) {
      const length = readVarint();
      if (offset + length > data.length) throw new Error('truncated protobuf field');
      yield [field, data.subarray(offset, offset + length)];
      offset += length;
    } else if (wire === 1) offset += 8;
    else if (wire === 5) offset += 4;
    else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
}

const text = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
const utf8 = (s: string): Uint8Array => Buffer.from(s, 'utf8');

export function encodeUser(user: AuthUser): Uint8Array {
  const w = new ProtoWriter().bytes(1, utf8(user.name)).bytes(2, user.password);
  for (const role of user.roles) w.always(3, utf8(role));
  // etcd always sets options (UserAdd fills a default), so it writes the field even when false.
  return w.always(4, new ProtoWriter().number(1, user.noPassword ? 1 : 0).finish()).finish();
}

export function decodeUser(data: Uint8Array): AuthUser {
  let name = '';
  let password: Uint8Array = new Uint8Array(0);
  const roles: string[] = [];
  let noPassword = false;
  for (const [field, value] of protoFields(data)) {
    if (typeof value === 'number') continue;
    if (field === 1) name = text(value);
    else if (field === 2) password = Uint8Array.from(value);
    else if (field === 3) roles.push(text(value));
    else if (field === 4) for (const [f, v] of protoFields(value)) if (f === 1 && typeof v === 'number') noPassword = v !== 0;
  }
  return { name, password, roles: roles.sort(), noPassword };
}

export function encodeRole(role: AuthRole): Uint8Array {
  const w = new ProtoWriter().bytes(1, utf8(role.name));
  for (const p of role.permissions) w.always(2, new ProtoWriter().number(1, p.permType).bytes(2, p.key).bytes(3, p.rangeEnd).finish());
  return w.finish();
}

export function decodeRole(data: Uint8Array): AuthRole {
  let name = '';
  const permissions: Permission[] = [];
  for (const [field, value] of protoFields(data)) {
    if (typeof value === 'number') continue;
    if (field === 1) name = text(value);
    else if (field === 2) {
      let permType = PermissionType.Read;
      let key: Uint8Array = new Uint8Array(0);
      let rangeEnd: Uint8Array = new Uint8Array(0);
      for (const [f, v] of protoFields(value)) {
        if (f === 1 && typeof v === 'number') permType = v as PermissionType;
        else if (f === 2 && typeof v !== 'number') key = Uint8Array.from(v);
        else if (f === 3 && typeof v !== 'number') rangeEnd = Uint8Array.from(v);
      }
      permissions.push({ permType, key, rangeEnd });
    }
  }
  return { name, permissions };
}
