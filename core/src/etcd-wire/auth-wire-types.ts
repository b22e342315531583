import type { WireInt64, WireResponseHeader } from './wire-types.js';

/* etcd's Auth messages as plain objects (see wire-types.ts; field names as in rpc.proto and auth.proto). */

export interface WirePermission {
  /** authpb.Permission.Type: a number from the proto loader; the JSON mapping may give its name. */
  permType: number | string;
  key: Uint8Array;
  range_end: Uint8Array;
}

export interface WireAuthenticateRequest {
  name: string;
  password: string;
}

export interface WireAuthUserAddRequest {
  name: string;
  password: string;
  options: { no_password: boolean } | null;
  hashedPassword: string;
}

export interface WireAuthNameRequest {
  name: string;
}

export interface WireAuthUserChangePasswordRequest {
  name: string;
  password: string;
  hashedPassword: string;
}

export interface WireAuthUserGrantRoleRequest {
  user: string;
  role: string;
}

export interface WireAuthUserRevokeRoleRequest {
  name: string;
  role: string;
}

export interface WireAuthRoleRequest {
  role: string;
}

export interface WireAuthRoleGrantPermissionRequest {
  name: string;
  perm: WirePermission | null;
}

export interface WireAuthRoleRevokePermissionRequest {
  role: string;
  key: Uint8Array;
  range_end: Uint8Array;
}

export interface WireAuthStatusResponse {
  header: WireResponseHeader;
  enabled: boolean;
  authRevision: WireInt64;
}
