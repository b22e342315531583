import { inject, injectable } from 'inversify';
import type { AuthInfo } from '../api/auth-types.js';
import { EtcdErrors } from '../api/errors.js';
import type { ResponseHeader } from '../api/kv-types.js';
import { RESPONSE_HEADERS, type ResponseHeaders } from '../api/response-headers.js';
import type { BackendOp } from '../ports/backend.js';
import { MvccStore, type ApplyOutcome } from '../mvcc/mvcc-store.js';
import type { AuthCommand, AuthenticateOutcome } from './auth-command.js';
import { AuthStore } from './auth-store.js';
import { TOKEN_PROVIDER, type TokenProvider } from './token-provider.js';

/**
 * Applies auth entries. Every change but Authenticate needs the root role when auth is enabled
 * (etcd's needAdminPermission, checked here against the caller the proposer put in the command);
 * each change is one Backend batch with the applied index.
 */
@injectable()
export class AuthApplier {
  constructor(
    @inject(AuthStore) private readonly store: AuthStore,
    @inject(MvccStore) private readonly mvcc: MvccStore,
    @inject(TOKEN_PROVIDER) private readonly tokens: TokenProvider,
    @inject(RESPONSE_HEADERS) private readonly headers: ResponseHeaders,
  ) {}

  /**
   * Reload the auth store from the Backend (at open, and after a snapshot replaced it). Tokens
   * issued before go: the snapshot may have deleted their user or changed the password, which
   * this member never applied one by one.
   */
  async load(): Promise<void> {
    await this.store.load();
    this.tokens.disable();
  }

  async apply(index: number, command: AuthCommand, caller: AuthInfo | undefined): Promise<ApplyOutcome<unknown>> {
    if (command.op === 'authenticate') return this.authenticate(index, command);
    let ops: BackendOp[];
    try {
      this.store.checkAdmin(caller);
      ops = this.change(command);
    } catch (err) {
      await this.mvcc.skip(index);
      return { error: err as Error };
    }
    await this.mvcc.writeMeta(index, ops);
    if (command.op === 'userDelete' || command.op === 'userChangePassword') this.tokens.invalidateUser(command.name);
    if (command.op === 'authDisable') this.tokens.disable();
    const ok: { header: ResponseHeader } = { header: this.headers.header(this.mvcc.currentRevision) };
    return { ok };
  }

  private change(command: Exclude<AuthCommand, { op: 'authenticate' }>): BackendOp[] {
    const store = this.store;
    switch (command.op) {
      case 'authEnable':
        return store.enable();
      case 'authDisable':
        return store.disable();
      case 'userAdd':
        return store.userAdd(command.name, command.password, command.noPassword);
      case 'userDelete':
        return store.userDelete(command.name);
      case 'userChangePassword':
        return store.userChangePassword(command.name, command.password);
      case 'userGrantRole':
        return store.userGrantRole(command.user, command.role);
      case 'userRevokeRole':
        return store.userRevokeRole(command.name, command.role);
      case 'roleAdd':
        return store.roleAdd(command.name);
      case 'roleDelete':
        return store.roleDelete(command.role);
      case 'roleGrantPermission':
        return store.roleGrantPermission(command.name, command.perm);
      case 'roleRevokePermission':
        return store.roleRevokePermission(command.role, command.key, command.rangeEnd);
    }
  }

  private async authenticate(index: number, command: Extract<AuthCommand, { op: 'authenticate' }>): Promise<ApplyOutcome<AuthenticateOutcome>> {
    await this.mvcc.skip(index);
    if (!this.store.enabled) return { error: EtcdErrors.authNotEnabled() };
    const user = this.store.user(command.name);
    if (user === undefined || user.noPassword) return { error: EtcdErrors.authFailed() };
    if (this.store.revision !== command.checkedRevision) return { ok: { retry: true } };
    const token = this.tokens.assignAtApply(command.prefix, index, command.name);
    return { ok: { retry: false, username: command.name, revision: this.store.revision, token } };
  }
}
