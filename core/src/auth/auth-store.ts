import { inject, injectable } from 'inversify';
import { PermissionType, type AuthInfo, type Permission } from '../api/auth-types.js';
import { EtcdErrors } from '../api/errors.js';
import { BACKEND, type Backend, type BackendOp } from '../ports/backend.js';
import { decodeU64, encodeU64, metaKey } from '../mvcc/revision-key.js';
import { decodeRole, decodeUser, encodeRole, encodeUser, hasRootRole, ROOT_ROLE, ROOT_USER, type AuthRole, type AuthUser } from './auth-records.js';
import { mergePermissions, type UserPermissions } from './permission-intervals.js';

/*
 * Backend keys, beside the MVCC metadata: "auth/" sorts apart from "alarm/", "lease/", "members".
 * Users and roles are stored as etcd's authpb protobufs, so snapshots carry them unchanged.
 */
const PREFIX = 'auth/';
export const AUTH_ENABLED_KEY = metaKey(`${PREFIX}enabled`);
export const AUTH_REVISION_KEY = metaKey(`${PREFIX}revision`);
const USER_PREFIX = `${PREFIX}user/`;
const ROLE_PREFIX = `${PREFIX}role/`;
export const userKey = (name: string): Uint8Array => metaKey(USER_PREFIX + name);
export const roleKey = (name: string): Uint8Array => metaKey(ROLE_PREFIX + name);
/** Every auth key: '0' follows '/' in ASCII. */
export const AUTH_KEYS = { gte: metaKey(PREFIX), lt: metaKey('auth0') };

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;
const byKey = (a: Permission, b: Permission): number => Buffer.compare(a.key, b.key) || Buffer.compare(a.rangeEnd, b.rangeEnd);

/** Why IsAdminPermitted refuses a caller. */
export type AdminRefusal = 'userEmpty' | 'userNotFound' | 'permissionDenied';

/** The auth state as a snapshot file carries it (etcd's auth, authUsers and authRoles buckets). */
export interface AuthStoreContents {
  readonly enabled: boolean;
  readonly revision: number;
  readonly users: readonly AuthUser[];
  readonly roles: readonly AuthRole[];
}

/**
 * etcd's auth store: users, roles, the enabled flag and the auth revision, changed only by applied
 * Raft entries (each change returns the Backend writes that go atomically with the applied index)
 * and read at open and after a snapshot restore. The checks (`checkPermitted`, `checkAdmin`) are
 * etcd's isOpPermitted and IsAdminPermitted; a user's merged permissions are cached until the
 * auth revision moves.
 */
@injectable()
export class AuthStore {
  private enabledFlag = false;
  private authRevision = 0;
  private readonly users = new Map<string, AuthUser>();
  private readonly roles = new Map<string, AuthRole>();
  private readonly permissionCache = new Map<string, UserPermissions>();

  constructor(@inject(BACKEND) private readonly backend: Backend) {}

  async load(): Promise<void> {
    this.enabledFlag = false;
    this.authRevision = 0;
    this.users.clear();
    this.roles.clear();
    this.permissionCache.clear();
    for await (const [k, v] of this.backend.range(AUTH_KEYS)) {
      const name = Buffer.from(k).subarray(1).toString('utf8');
      if (name === `${PREFIX}enabled`) this.enabledFlag = v.length === 1 && v[0] === 1;
      else if (name === `${PREFIX}revision`) this.authRevision = decodeU64(v, 'auth revision');
      else if (name.startsWith(USER_PREFIX)) {
        const user = decodeUser(v);
        this.users.set(user.name, user);
      } else if (name.startsWith(ROLE_PREFIX)) {
        const role = decodeRole(v);
        this.roles.set(role.name, role);
      }
    }
  }

  get enabled(): boolean {
    return this.enabledFlag;
  }

  get revision(): number {
    return this.authRevision;
  }

  user(name: string): AuthUser | undefined {
    return this.users.get(name);
  }

  role(name: string): AuthRole | undefined {
    return this.roles.get(name);
  }

  userNames(): string[] {
    return [...this.users.keys()].sort();
  }

  roleNames(): string[] {
    return [...this.roles.keys()].sort();
  }

  hasRole(username: string, role: string): boolean {
    return this.users.get(username)?.roles.includes(role) === true;
  }

  contents(): AuthStoreContents {
    // In name order: etcd's buckets list them so.
    const users = this.userNames().map((name) => this.users.get(name)!);
    const roles = this.roleNames().map((name) => this.roles.get(name)!);
    return { enabled: this.enabledFlag, revision: this.authRevision, users, roles };
  }

  // ---- checks (etcd's isOpPermitted / IsAdminPermitted) ----

  /** Throws etcd's error unless `caller` may access [key, rangeEnd) that way; passes everyone while auth is disabled. */
  checkPermitted(caller: AuthInfo | undefined, key: Uint8Array, rangeEnd: Uint8Array | undefined, type: PermissionType.Read | PermissionType.Write): void {
    if (!this.enabledFlag) return;
    if (caller === undefined || caller.revision === 0) throw EtcdErrors.userEmpty();
    if (caller.revision < this.authRevision) throw EtcdErrors.authOldRevision();
    const user = this.users.get(caller.username);
    if (user === undefined) throw EtcdErrors.permissionDenied();
    if (hasRootRole(user)) return;
    const perms = this.permissionsOf(user);
    if (!(type === PermissionType.Read ? perms.read : perms.write).covers(key, rangeEnd)) throw EtcdErrors.permissionDenied();
  }

  /** Throws unless `caller` holds the root role; passes everyone while auth is disabled. */
  checkAdmin(caller: AuthInfo | undefined): void {
    const refusal = this.adminRefusal(caller);
    if (refusal !== undefined) throw EtcdErrors[refusal]();
  }

  /** Why `caller` may not administer (etcd's IsAdminPermitted), undefined when they may. */
  adminRefusal(caller: AuthInfo | undefined): AdminRefusal | undefined {
    if (!this.enabledFlag) return undefined;
    if (caller === undefined || caller.username === '') return 'userEmpty';
    const user = this.users.get(caller.username);
    if (user === undefined) return 'userNotFound';
    if (!hasRootRole(user)) return 'permissionDenied';
    return undefined;
  }

  /** The user's merged permissions (cached until the next change). */
  permissionsOf(user: AuthUser): UserPermissions {
    let perms = this.permissionCache.get(user.name);
    if (perms === undefined) {
      perms = mergePermissions(user.roles.flatMap((r) => this.roles.get(r)?.permissions ?? []));
      this.permissionCache.set(user.name, perms);
    }
    return perms;
  }

  // ---- changes, applied from the log: each validates first, then changes memory and returns its writes ----

  enable(): BackendOp[] {
    if (this.enabledFlag) return [];
    const root = this.users.get(ROOT_USER);
    if (root === undefined) throw EtcdErrors.rootUserNotExist();
    if (!hasRootRole(root)) throw EtcdErrors.rootRoleNotExist();
    this.enabledFlag = true;
    // etcd does not move the revision when enabling.
    return [{ type: 'put', key: AUTH_ENABLED_KEY, value: Uint8Array.of(1) }];
  }

  disable(): BackendOp[] {
    if (!this.enabledFlag) return [];
    this.enabledFlag = false;
    return [{ type: 'put', key: AUTH_ENABLED_KEY, value: Uint8Array.of(0) }, this.bump()];
  }

  userAdd(name: string, password: Uint8Array, noPassword: boolean): BackendOp[] {
    if (name.length === 0) throw EtcdErrors.userEmpty();
    if (this.users.has(name)) throw EtcdErrors.userAlreadyExist();
    return this.putUser({ name, password: noPassword ? new Uint8Array(0) : password, roles: [], noPassword });
  }

  userDelete(name: string): BackendOp[] {
    if (this.enabledFlag && name === ROOT_USER) throw EtcdErrors.invalidAuthMgmt();
    if (!this.users.has(name)) throw EtcdErrors.userNotFound();
    this.users.delete(name);
    return [{ type: 'del', key: userKey(name) }, this.bump()];
  }

  userChangePassword(name: string, password: Uint8Array): BackendOp[] {
    const user = this.users.get(name);
    if (user === undefined) throw EtcdErrors.userNotFound();
    return this.putUser({ ...user, password });
  }

  /** Granting a role the user has is accepted and changes nothing (etcd's rule). */
  userGrantRole(name: string, role: string): BackendOp[] {
    const user = this.users.get(name);
    if (user === undefined) throw EtcdErrors.userNotFound();
    if (role !== ROOT_ROLE && !this.roles.has(role)) throw EtcdErrors.roleNotFound();
    if (user.roles.includes(role)) return [];
    return this.putUser({ ...user, roles: [...user.roles, role].sort() });
  }

  userRevokeRole(name: string, role: string): BackendOp[] {
    if (this.enabledFlag && name === ROOT_USER && role === ROOT_ROLE) throw EtcdErrors.invalidAuthMgmt();
    const user = this.users.get(name);
    if (user === undefined) throw EtcdErrors.userNotFound();
    if (!user.roles.includes(role)) throw EtcdErrors.roleNotGranted();
    return this.putUser({ ...user, roles: user.roles.filter((r) => r !== role) });
  }

  roleAdd(name: string): BackendOp[] {
    if (name.length === 0) throw EtcdErrors.roleEmpty();
    if (this.roles.has(name)) throw EtcdErrors.roleAlreadyExist();
    return this.putRole({ name, permissions: [] });
  }

  /** Deleting a role also revokes it from every user holding it. */
  roleDelete(name: string): BackendOp[] {
    if (this.enabledFlag && name === ROOT_ROLE) throw EtcdErrors.invalidAuthMgmt();
    if (!this.roles.has(name)) throw EtcdErrors.roleNotFound();
    this.roles.delete(name);
    const ops: BackendOp[] = [{ type: 'del', key: roleKey(name) }];
    for (const user of [...this.users.values()]) {
      if (!user.roles.includes(name)) continue;
      const updated = { ...user, roles: user.roles.filter((r) => r !== name) };
      this.users.set(user.name, updated);
      ops.push({ type: 'put', key: userKey(user.name), value: encodeUser(updated) });
    }
    ops.push(this.bump());
    return ops;
  }

  /** A permission on the same key and range end replaces the old one's type; otherwise it is added. */
  roleGrantPermission(name: string, perm: Permission): BackendOp[] {
    const role = this.roles.get(name);
    if (role === undefined) throw EtcdErrors.roleNotFound();
    // etcd 3.5 refuses an empty range ([k, e) with e ≤ k): it would grant nothing.
    const fromKey = perm.rangeEnd.length === 1 && perm.rangeEnd[0] === 0;
    if (perm.rangeEnd.length > 0 && !fromKey && Buffer.compare(perm.key, perm.rangeEnd) >= 0) throw EtcdErrors.invalidAuthMgmt();
    const kept = role.permissions.filter((p) => !(sameBytes(p.key, perm.key) && sameBytes(p.rangeEnd, perm.rangeEnd)));
    const permission: Permission = { permType: perm.permType, key: Uint8Array.from(perm.key), rangeEnd: Uint8Array.from(perm.rangeEnd) };
    return this.putRole({ name, permissions: [...kept, permission].sort(byKey) });
  }

  roleRevokePermission(name: string, key: Uint8Array, rangeEnd: Uint8Array): BackendOp[] {
    const role = this.roles.get(name);
    if (role === undefined) throw EtcdErrors.roleNotFound();
    const kept = role.permissions.filter((p) => !(sameBytes(p.key, key) && sameBytes(p.rangeEnd, rangeEnd)));
    if (kept.length === role.permissions.length) throw EtcdErrors.permissionNotGranted();
    return this.putRole({ name, permissions: kept });
  }

  private putUser(user: AuthUser): BackendOp[] {
    this.users.set(user.name, user);
    return [{ type: 'put', key: userKey(user.name), value: encodeUser(user) }, this.bump()];
  }

  private putRole(role: AuthRole): BackendOp[] {
    this.roles.set(role.name, role);
    return [{ type: 'put', key: roleKey(role.name), value: encodeRole(role) }, this.bump()];
  }

  /** etcd's commitRevision: every change but enabling moves the revision; cached permissions go with it. */
  private bump(): BackendOp {
    this.authRevision += 1;
    this.permissionCache.clear();
    return { type: 'put', key: AUTH_REVISION_KEY, value: encodeU64(this.authRevision) };
  }
}

/** The Backend writes that make a store hold `contents` (a snapshot restore: the caller clears the old auth keys first). */
export function authContentsOps(contents: AuthStoreContents): BackendOp[] {
  const ops: BackendOp[] = [
    { type: 'put', key: AUTH_ENABLED_KEY, value: Uint8Array.of(contents.enabled ? 1 : 0) },
    { type: 'put', key: AUTH_REVISION_KEY, value: encodeU64(contents.revision) },
  ];
  for (const user of contents.users) ops.push({ type: 'put', key: userKey(user.name), value: encodeUser(user) });
  for (const role of contents.roles) ops.push({ type: 'put', key: roleKey(role.name), value: encodeRole(role) });
  return ops;
}
