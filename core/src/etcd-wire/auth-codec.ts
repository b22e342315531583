import { PermissionType, type Permission } from '../api/auth-types.js';
import type { WirePermission } from './auth-wire-types.js';

const EMPTY = new Uint8Array(0);
const TYPE_NAMES: Readonly<Record<string, PermissionType>> = { READ: PermissionType.Read, WRITE: PermissionType.Write, READWRITE: PermissionType.ReadWrite };

function permissionTypeFromWire(value: number | string | undefined): PermissionType {
  if (typeof value === 'string') return TYPE_NAMES[value] ?? (Number(value) as PermissionType);
  return (value ?? PermissionType.Read) as PermissionType;
}

/** authpb.Permission from the wire; an absent one (etcd's nil perm) is READ on the empty key. */
export function permissionFromWire(wire: WirePermission | null | undefined): Permission {
  return {
    permType: permissionTypeFromWire(wire?.permType),
    key: wire?.key ?? EMPTY,
    rangeEnd: wire?.range_end ?? EMPTY,
  };
}

export function permissionToWire(permission: Permission): WirePermission {
  return { permType: permission.permType, key: Buffer.from(permission.key), range_end: Buffer.from(permission.rangeEnd) };
}
