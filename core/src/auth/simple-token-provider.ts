import { randomInt } from 'node:crypto';
import type { AuthInfo } from '../api/auth-types.js';
import type { Clock } from '../ports/clock.js';
import type { TokenProvider } from './token-provider.js';

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** etcd's simple token prefix length. */
const PREFIX_LENGTH = 16;
/** Expired tokens are swept when this many more were issued since the last sweep. */
const SWEEP_EVERY = 256;

interface SimpleToken {
  readonly username: string;
  expiresAt: number;
}

/**
 * etcd's simple tokens: 16 random letters, '.', and the Raft index of the Authenticate entry.
 * Every member records the token when it applies that entry; a token lives `ttlMs` after its last
 * use on this member (each member keeps its own clock, as etcd's TTL keeper does).
 */
export class SimpleTokenProvider implements TokenProvider {
  readonly kind = 'simple';
  private readonly tokens = new Map<string, SimpleToken>();
  private readonly byUser = new Map<string, Set<string>>();
  private issuedSinceSweep = 0;

  constructor(
    private readonly clock: Pick<Clock, 'now'>,
    private readonly ttlMs: number,
  ) {}

  prefix(): string {
    let out = '';
    for (let i = 0; i < PREFIX_LENGTH; i++) out += LETTERS[randomInt(LETTERS.length)];
    return out;
  }

  assignAtApply(prefix: string, index: number, username: string): string {
    if (++this.issuedSinceSweep >= SWEEP_EVERY) this.sweep();
    const token = `${prefix}.${index}`;
    this.tokens.set(token, { username, expiresAt: this.clock.now() + this.ttlMs });
    let mine = this.byUser.get(username);
    if (mine === undefined) this.byUser.set(username, (mine = new Set()));
    mine.add(token);
    return token;
  }

  sign(): Promise<string> {
    return Promise.reject(new Error('simple tokens are assigned when Authenticate is applied'));
  }

  info(token: string, currentRevision: number): Promise<AuthInfo | undefined> {
    const entry = this.tokens.get(token);
    if (entry === undefined) return Promise.resolve(undefined);
    const now = this.clock.now();
    if (entry.expiresAt <= now) {
      this.drop(token, entry.username);
      return Promise.resolve(undefined);
    }
    entry.expiresAt = now + this.ttlMs;
    // A simple token carries no revision: it speaks for the user at the store's revision now (etcd's rule).
    return Promise.resolve({ username: entry.username, revision: currentRevision });
  }

  invalidateUser(username: string): void {
    for (const token of this.byUser.get(username) ?? []) this.tokens.delete(token);
    this.byUser.delete(username);
  }

  disable(): void {
    this.tokens.clear();
    this.byUser.clear();
  }

  /** Tokens known now (tests and metrics). */
  get size(): number {
    return this.tokens.size;
  }

  private sweep(): void {
    this.issuedSinceSweep = 0;
    const now = this.clock.now();
    for (const [token, entry] of this.tokens) if (entry.expiresAt <= now) this.drop(token, entry.username);
  }

  private drop(token: string, username: string): void {
    this.tokens.delete(token);
    const mine = this.byUser.get(username);
    mine?.delete(token);
    if (mine?.size === 0) this.byUser.delete(username);
  }
}
