import { expect } from 'chai';
import { PermissionType, type AuthInfo } from '../../src/api/auth-types.js';
import type { EtcdError } from '../../src/api/errors.js';
import { decodeRole, decodeUser, encodeRole, encodeUser } from '../../src/auth/auth-records.js';
import { AuthStore } from '../../src/auth/auth-store.js';
import { MemoryBackend } from '../../src/memory/memory-backend.js';
import type { BackendOp } from '../../src/ports/backend.js';

const b = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const HASH = b('$2b$04$abcdefghijklmnopqrstuv');

function refusal(change: () => unknown): EtcdError {
  try {
    change();
  } catch (err) {
    return err as EtcdError;
  }
  throw new Error('expected a refusal');
}

describe("the auth store (etcd's auth/store.go rules)", () => {
  let backend: MemoryBackend;
  let store: AuthStore;
  const apply = async (ops: BackendOp[]): Promise<void> => backend.write(ops);
  beforeEach(() => {
    backend = new MemoryBackend();
    store = new AuthStore(backend);
  });

  async function withRoot(): Promise<void> {
    await apply(store.userAdd('root', HASH, false));
    await apply(store.userGrantRole('root', 'root'));
  }

  it('enables only with a root user holding the root role, with etcd’s errors', async () => {
    let err = refusal(() => store.enable());
    expect([err.message, err.code]).to.deep.equal(['etcdserver: root user does not exist', 9]);
    await apply(store.userAdd('root', HASH, false));
    err = refusal(() => store.enable());
    expect(err.message).to.equal('etcdserver: root user does not have root role');
    await apply(store.userGrantRole('root', 'root'));
    const revision = store.revision;
    await apply(store.enable());
    expect(store.enabled).to.equal(true);
    // Enabling does not move the revision; disabling does.
    expect(store.revision).to.equal(revision);
    await apply(store.disable());
    expect(store.enabled).to.equal(false);
    expect(store.revision).to.equal(revision + 1);
  });

  it('refuses duplicates, unknown names and root changes with auth enabled, word for word', async () => {
    await withRoot();
    expect(refusal(() => store.userAdd('', HASH, false)).message).to.equal('etcdserver: user name is empty');
    expect(refusal(() => store.userAdd('root', HASH, false)).message).to.equal('etcdserver: user name already exists');
    expect(refusal(() => store.roleAdd('')).message).to.equal('etcdserver: role name is empty');
    await apply(store.roleAdd('r'));
    expect(refusal(() => store.roleAdd('r')).message).to.equal('etcdserver: role name already exists');
    expect(refusal(() => store.userGrantRole('nobody', 'r')).message).to.equal('etcdserver: user name not found');
    expect(refusal(() => store.userGrantRole('root', 'nope')).message).to.equal('etcdserver: role name not found');
    expect(refusal(() => store.userRevokeRole('root', 'r')).message).to.equal('etcdserver: role is not granted to the user');
    expect(refusal(() => store.roleRevokePermission('r', b('k'), b(''))).message).to.equal('etcdserver: permission is not granted to the role');
    expect(refusal(() => store.roleGrantPermission('r', { permType: PermissionType.Read, key: b('z'), rangeEnd: b('a') })).message).to.equal(
      'etcdserver: invalid auth management',
    );
    await apply(store.enable());
    for (const change of [() => store.userDelete('root'), () => store.userRevokeRole('root', 'root'), () => store.roleDelete('root')]) {
      const err = refusal(change);
      expect([err.message, err.code]).to.deep.equal(['etcdserver: invalid auth management', 3]);
    }
  });

  it('checks a caller as etcd’s isOpPermitted: empty user, old revision, unknown user, root, then the merged permissions', async () => {
    await withRoot();
    await apply(store.userAdd('alice', HASH, false));
    await apply(store.roleAdd('reader'));
    await apply(store.roleGrantPermission('reader', { permType: PermissionType.Read, key: b('a/'), rangeEnd: b('a0') }));
    await apply(store.userGrantRole('alice', 'reader'));
    const alice: AuthInfo = { username: 'alice', revision: store.revision };
    // Disabled: everyone passes.
    store.checkPermitted(undefined, b('x'), undefined, PermissionType.Write);
    await apply(store.enable());
    const denied = (caller: AuthInfo | undefined, key: string, type: PermissionType.Read | PermissionType.Write) =>
      refusal(() => store.checkPermitted(caller, b(key), undefined, type));
    expect(denied(undefined, 'a/1', PermissionType.Read).message).to.equal('etcdserver: user name is empty');
    store.checkPermitted(alice, b('a/1'), undefined, PermissionType.Read);
    expect([denied(alice, 'a/1', PermissionType.Write).message, denied(alice, 'a/1', PermissionType.Write).code]).to.deep.equal([
      'etcdserver: permission denied',
      7,
    ]);
    expect(denied({ username: 'ghost', revision: store.revision }, 'a/1', PermissionType.Read).message).to.equal('etcdserver: permission denied');
    store.checkPermitted({ username: 'root', revision: store.revision }, b('anything'), b('\0'), PermissionType.Write);
    await apply(store.roleGrantPermission('reader', { permType: PermissionType.ReadWrite, key: b('a/'), rangeEnd: b('a0') }));
    expect(denied(alice, 'a/1', PermissionType.Read).message).to.equal('etcdserver: revision of auth store is old');
    store.checkPermitted({ username: 'alice', revision: store.revision }, b('a/1'), undefined, PermissionType.Write);
    // Admin: root only; an unknown user is "not found", as etcd's IsAdminPermitted says.
    expect(refusal(() => store.checkAdmin(alice)).message).to.equal('etcdserver: permission denied');
    expect(refusal(() => store.checkAdmin(undefined)).message).to.equal('etcdserver: user name is empty');
    expect(refusal(() => store.checkAdmin({ username: 'ghost', revision: 9 })).message).to.equal('etcdserver: user name not found');
  });

  it('replaces a permission granted again on the same range, and deleting a role revokes it from its users', async () => {
    await withRoot();
    await apply(store.roleAdd('r'));
    await apply(store.roleGrantPermission('r', { permType: PermissionType.Read, key: b('k'), rangeEnd: b('') }));
    await apply(store.roleGrantPermission('r', { permType: PermissionType.Write, key: b('k'), rangeEnd: b('') }));
    await apply(store.roleGrantPermission('r', { permType: PermissionType.Read, key: b('a'), rangeEnd: b('\0') }));
    expect(store.role('r')!.permissions.map((p) => [Buffer.from(p.key).toString(), p.permType])).to.deep.equal([
      ['a', PermissionType.Read],
      ['k', PermissionType.Write],
    ]);
    await apply(store.userAdd('bob', HASH, false));
    await apply(store.userGrantRole('bob', 'r'));
    await apply(store.roleDelete('r'));
    expect(store.user('bob')!.roles).to.deep.equal([]);
  });

  it('persists everything in the Backend: a new store loads the same users, roles, flag and revision', async () => {
    await withRoot();
    await apply(store.userAdd('nopw', new Uint8Array(0), true));
    await apply(store.roleAdd('r'));
    await apply(store.roleGrantPermission('r', { permType: PermissionType.ReadWrite, key: b('p/'), rangeEnd: b('p0') }));
    await apply(store.userGrantRole('nopw', 'r'));
    await apply(store.enable());
    const reopened = new AuthStore(backend);
    await reopened.load();
    expect(reopened.contents()).to.deep.equal(store.contents());
    expect(reopened.user('nopw')!.noPassword).to.equal(true);
    expect(reopened.enabled).to.equal(true);
  });

  it('encodes users and roles as etcd’s authpb protobufs', () => {
    const user = { name: 'u', password: HASH, roles: ['a', 'root'], noPassword: false };
    // authpb.User{name:"u"}: field 1, length 1, 'u'.
    expect(Buffer.from(encodeUser(user)).subarray(0, 3)).to.deep.equal(Buffer.from([0x0a, 1, 0x75]));
    expect(decodeUser(encodeUser(user))).to.deep.equal(user);
    const role = { name: 'r', permissions: [{ permType: PermissionType.ReadWrite, key: b('k'), rangeEnd: b('\0') }] };
    expect(decodeRole(encodeRole(role))).to.deep.equal(role);
  });
});
