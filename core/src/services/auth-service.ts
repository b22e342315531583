import { inject, injectable } from 'inversify';
import type { AuthHeaderResponse, AuthInfo, AuthService, Permission } from '../api/auth-types.js';
import { EtcdErrors } from '../api/errors.js';
import type { ResponseHeader } from '../api/kv-types.js';
import { RESPONSE_HEADERS, type ResponseHeaders } from '../api/response-headers.js';
import { encodeKvCommand, type KvCommand } from '../apply/kv-command.js';
import type { AuthenticateOutcome } from '../auth/auth-command.js';
import { AuthStore } from '../auth/auth-store.js';
import { PasswordHasher } from '../auth/password-hasher.js';
import { TOKEN_PROVIDER, type TokenProvider } from '../auth/token-provider.js';
import { MvccStore, type ApplyOutcome } from '../mvcc/mvcc-store.js';
import { CONSENSUS, type Consensus } from '../raft/consensus.js';
import { LOGGER, type Logger } from '../ports/logger.js';
import { RateLimitedWarning } from '../ports/rate-limited-warning.js';
import { LeaderWait } from './leader-wait.js';

const EMPTY = new Uint8Array(0);
/** Authenticate retries when the auth store moves between the password check and apply; this bounds it. */
const AUTHENTICATE_ATTEMPTS = 8;

/**
 * etcd's Auth service on a member. Changes go through Raft with the caller in the command and
 * need root when applied (AuthApplier); passwords are hashed here, before proposing, so the log
 * carries only the hash (etcd 3.5). Reads (UserGet, UserList, RoleGet, RoleList) are answered
 * locally after a ReadIndex, with etcd's rules: root, or one's own user, or a role one holds.
 * `caller` is what the caller-scoped view (AuthorizedServices) passes; with auth disabled it is absent.
 */
@injectable()
export class MemberAuthService implements AuthService {
  constructor(
    @inject(CONSENSUS) private readonly node: Consensus,
    @inject(AuthStore) private readonly store: AuthStore,
    @inject(PasswordHasher) private readonly hasher: PasswordHasher,
    @inject(TOKEN_PROVIDER) private readonly tokens: TokenProvider,
    @inject(LeaderWait) private readonly leader: LeaderWait,
    @inject(MvccStore) private readonly mvcc: Pick<MvccStore, 'currentRevision'>,
    @inject(RESPONSE_HEADERS) private readonly headers: ResponseHeaders,
    @inject(LOGGER) logger: Logger,
  ) {
    this.refusals = new RateLimitedWarning(logger, 'refused an authentication');
  }

  private readonly refusals: RateLimitedWarning;

  enable(caller?: AuthInfo): Promise<AuthHeaderResponse> {
    return this.propose({ op: 'authEnable', caller });
  }

  disable(caller?: AuthInfo): Promise<AuthHeaderResponse> {
    return this.propose({ op: 'authDisable', caller });
  }

  async status(): Promise<{ header: ResponseHeader; enabled: boolean; authRevision: number }> {
    await this.linearize();
    return { header: this.header(), enabled: this.store.enabled, authRevision: this.store.revision };
  }

  async authenticate(name: string, password: string): Promise<{ header: ResponseHeader; token: string }> {
    for (let attempt = 0; attempt < AUTHENTICATE_ATTEMPTS; attempt++) {
      if (!this.store.enabled) throw EtcdErrors.authNotEnabled();
      const user = this.store.user(name);
      const checkedRevision = this.store.revision;
      const matches = user === undefined || user.noPassword ? this.hasher.refuseUnknown(password) : this.hasher.matches(password, user.password);
      if (!(await matches)) {
        this.refusals.warn({ user: name, reason: user === undefined ? 'unknown user' : user.noPassword ? 'user has no password' : 'wrong password' });
        throw EtcdErrors.authFailed();
      }
      const outcome = await this.propose<AuthenticateOutcome>({ op: 'authenticate', name, prefix: this.tokens.prefix(), checkedRevision });
      if (outcome.retry) continue;
      const token = outcome.token ?? (await this.tokens.sign(outcome.username, outcome.revision));
      return { header: this.header(), token };
    }
    throw EtcdErrors.authOldRevision();
  }

  /** `hashedPassword` (etcd 3.5's field): a bcrypt hash the client made, stored as given. */
  async userAdd(
    name: string,
    password: string,
    options: { readonly noPassword: boolean },
    caller?: AuthInfo,
    hashedPassword?: string,
  ): Promise<AuthHeaderResponse> {
    if (name.length === 0) throw EtcdErrors.userEmpty();
    const hash = options.noPassword ? EMPTY : await this.hashOf(password, hashedPassword);
    return this.propose({ op: 'userAdd', name, password: hash, noPassword: options.noPassword, caller });
  }

  async userGet(name: string, caller?: AuthInfo): Promise<{ header: ResponseHeader; roles: readonly string[] }> {
    await this.linearize();
    if (caller?.username !== name) this.store.checkAdmin(caller);
    const user = this.store.user(name);
    if (user === undefined) throw EtcdErrors.userNotFound();
    return { header: this.header(), roles: [...user.roles] };
  }

  async userList(caller?: AuthInfo): Promise<{ header: ResponseHeader; users: readonly string[] }> {
    await this.linearize();
    this.store.checkAdmin(caller);
    return { header: this.header(), users: this.store.userNames() };
  }

  userDelete(name: string, caller?: AuthInfo): Promise<AuthHeaderResponse> {
    return this.propose({ op: 'userDelete', name, caller });
  }

  async userChangePassword(name: string, password: string, caller?: AuthInfo, hashedPassword?: string): Promise<AuthHeaderResponse> {
    return this.propose({ op: 'userChangePassword', name, password: await this.hashOf(password, hashedPassword), caller });
  }

  userGrantRole(user: string, role: string, caller?: AuthInfo): Promise<AuthHeaderResponse> {
    return this.propose({ op: 'userGrantRole', user, role, caller });
  }

  userRevokeRole(name: string, role: string, caller?: AuthInfo): Promise<AuthHeaderResponse> {
    return this.propose({ op: 'userRevokeRole', name, role, caller });
  }

  roleAdd(name: string, caller?: AuthInfo): Promise<AuthHeaderResponse> {
    return this.propose({ op: 'roleAdd', name, caller });
  }

  async roleGet(role: string, caller?: AuthInfo): Promise<{ header: ResponseHeader; perm: readonly Permission[] }> {
    await this.linearize();
    if (caller === undefined || !this.store.hasRole(caller.username, role)) this.store.checkAdmin(caller);
    const found = this.store.role(role);
    if (found === undefined) throw EtcdErrors.roleNotFound();
    return { header: this.header(), perm: found.permissions };
  }

  async roleList(caller?: AuthInfo): Promise<{ header: ResponseHeader; roles: readonly string[] }> {
    await this.linearize();
    this.store.checkAdmin(caller);
    return { header: this.header(), roles: this.store.roleNames() };
  }

  roleDelete(role: string, caller?: AuthInfo): Promise<AuthHeaderResponse> {
    return this.propose({ op: 'roleDelete', role, caller });
  }

  roleGrantPermission(name: string, perm: Permission, caller?: AuthInfo): Promise<AuthHeaderResponse> {
    return this.propose({ op: 'roleGrantPermission', name, perm, caller });
  }

  roleRevokePermission(role: string, key: Uint8Array, rangeEnd: Uint8Array, caller?: AuthInfo): Promise<AuthHeaderResponse> {
    return this.propose({ op: 'roleRevokePermission', role, key, rangeEnd, caller });
  }

  private async hashOf(password: string, hashedPassword: string | undefined): Promise<Uint8Array> {
    if (hashedPassword !== undefined && hashedPassword.length > 0) return Buffer.from(hashedPassword, 'utf8');
    return this.hasher.hash(password);
  }

  private header(): ResponseHeader {
    return this.headers.header(this.mvcc.currentRevision);
  }

  /** Reads see every change committed before the call (etcd 3.4 sends them through the log). */
  private async linearize(): Promise<void> {
    await this.leader.known();
    await this.node.readIndex();
  }

  private async propose<T>(command: KvCommand): Promise<T> {
    await this.leader.known();
    const outcome = (await this.node.propose(encodeKvCommand(command))) as ApplyOutcome<T>;
    if ('error' in outcome) throw outcome.error;
    return outcome.ok;
  }
}
