import type { ResponseHeader } from './kv-types.js';

/** etcd's authpb.Permission.Type: what a role may do on a key range. */
export enum PermissionType {
  Read = 0,
  Write = 1,
  ReadWrite = 2,
}

/**
 * A role's permission on keys, as etcd states it: `rangeEnd` empty is the single key `key`; a
 * `rangeEnd` of one zero byte is every key from `key` on ("from key"); otherwise [key, rangeEnd).
 */
export interface Permission {
  readonly permType: PermissionType;
  readonly key: Uint8Array;
  readonly rangeEnd: Uint8Array;
}

/** What a caller presents with a call: a token (gRPC `token` metadata, HTTP `Authorization`) and/or a verified client certificate's Common Name. */
export interface CallerCredentials {
  readonly token?: string;
  /** The Common Name of a client certificate the TLS handshake verified (etcd takes it as the user when no token is given). */
  readonly commonName?: string;
}

/** Who a checked call runs as: the user and the auth revision their token was issued at (etcd's AuthInfo). */
export interface AuthInfo {
  readonly username: string;
  readonly revision: number;
}

export interface AuthHeaderResponse {
  readonly header: ResponseHeader;
}

/**
 * etcd's Auth service (etcdserverpb.Auth), with etcd's rules and error strings (EtcdErrors):
 * enabling needs a `root` user holding the `root` role; `root` may do everything.
 */
export interface AuthService {
  enable(): Promise<AuthHeaderResponse>;
  disable(): Promise<AuthHeaderResponse>;
  status(): Promise<{ readonly header: ResponseHeader; readonly enabled: boolean; readonly authRevision: number }>;
  authenticate(name: string, password: string): Promise<{ readonly header: ResponseHeader; readonly token: string }>;
  userAdd(name: string, password: string, options: { readonly noPassword: boolean }): Promise<AuthHeaderResponse>;
  userGet(name: string): Promise<{ readonly header: ResponseHeader; readonly roles: readonly string[] }>;
  userList(): Promise<{ readonly header: ResponseHeader; readonly users: readonly string[] }>;
  userDelete(name: string): Promise<AuthHeaderResponse>;
  userChangePassword(name: string, password: string): Promise<AuthHeaderResponse>;
  userGrantRole(user: string, role: string): Promise<AuthHeaderResponse>;
  userRevokeRole(name: string, role: string): Promise<AuthHeaderResponse>;
  roleAdd(name: string): Promise<AuthHeaderResponse>;
  roleGet(role: string): Promise<{ readonly header: ResponseHeader; readonly perm: readonly Permission[] }>;
  roleList(): Promise<{ readonly header: ResponseHeader; readonly roles: readonly string[] }>;
  roleDelete(role: string): Promise<AuthHeaderResponse>;
  roleGrantPermission(name: string, perm: Permission): Promise<AuthHeaderResponse>;
  roleRevokePermission(role: string, key: Uint8Array, rangeEnd: Uint8Array): Promise<AuthHeaderResponse>;
}
