import type { AuthInfo } from '../api/auth-types.js';

/**
 * Issues and checks auth tokens. Authenticate goes through Raft (as in etcd 3.4): the proposer
 * checks the password and puts a fresh `prefix()` in the command; every member calls
 * `assignAtApply` when it applies the command, so a simple token is known on every member; a JWT
 * is signed afterwards, by the proposer alone (`sign`), and verified by any member with the key.
 */
export interface TokenProvider {
  readonly kind: 'simple' | 'jwt';
  /** What the proposer puts in the Authenticate command ('' for JWT). */
  prefix(): string;
  /** At apply: the simple token for `username` (recorded here), or undefined when the proposer signs one (JWT). */
  assignAtApply(prefix: string, index: number, username: string): string | undefined;
  /** On the proposer, after apply: a signed token for `username` at auth revision `revision`. */
  sign(username: string, revision: number): Promise<string>;
  /** Who `token` speaks for, or undefined when it is unknown, expired, forged or malformed. */
  info(token: string, currentRevision: number): Promise<AuthInfo | undefined>;
  /** Drops the user's tokens (deleted, or their password changed). JWTs cannot be recalled: they end with the auth revision. */
  invalidateUser(username: string): void;
  /** Auth was disabled: every token is forgotten. */
  disable(): void;
}

export const TOKEN_PROVIDER = Symbol.for('cairn.auth.TokenProvider');
