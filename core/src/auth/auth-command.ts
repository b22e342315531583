import type { Permission } from '../api/auth-types.js';

/** Changes of the auth store that go through Raft and are applied on every member in log order. */
export type AuthCommand =
  | { readonly op: 'authEnable' }
  | { readonly op: 'authDisable' }
  /**
   * The proposer checked the password at auth revision `checkedRevision` (the log never carries a
   * password); `prefix` makes the simple token every member records at apply.
   */
  | { readonly op: 'authenticate'; readonly name: string; readonly prefix: string; readonly checkedRevision: number }
  /** `password`: the bcrypt hash, made by the proposer (as etcd 3.5 does), empty for a no-password user. */
  | { readonly op: 'userAdd'; readonly name: string; readonly password: Uint8Array; readonly noPassword: boolean }
  | { readonly op: 'userDelete'; readonly name: string }
  | { readonly op: 'userChangePassword'; readonly name: string; readonly password: Uint8Array }
  | { readonly op: 'userGrantRole'; readonly user: string; readonly role: string }
  | { readonly op: 'userRevokeRole'; readonly name: string; readonly role: string }
  | { readonly op: 'roleAdd'; readonly name: string }
  | { readonly op: 'roleDelete'; readonly role: string }
  | { readonly op: 'roleGrantPermission'; readonly name: string; readonly perm: Permission }
  | { readonly op: 'roleRevokePermission'; readonly role: string; readonly key: Uint8Array; readonly rangeEnd: Uint8Array };

export const AUTH_OPS: ReadonlySet<string> = new Set([
  'authEnable',
  'authDisable',
  'authenticate',
  'userAdd',
  'userDelete',
  'userChangePassword',
  'userGrantRole',
  'userRevokeRole',
  'roleAdd',
  'roleDelete',
  'roleGrantPermission',
  'roleRevokePermission',
]);

export function isAuthCommand(command: { readonly op: string }): command is AuthCommand {
  return AUTH_OPS.has(command.op);
}

/** What an applied Authenticate answers its proposer. */
export type AuthenticateOutcome =
  /** The auth store changed between the password check and apply: check again (etcd's retry loop). */
  { readonly retry: true } | { readonly retry: false; readonly username: string; readonly revision: number; readonly token: string | undefined };
