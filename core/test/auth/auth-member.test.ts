import { expect } from 'chai';
import { PermissionType, type AuthService } from '../../src/api/auth-types.js';
import type { EtcdError } from '../../src/api/errors.js';
import { CompareResult, CompareTarget } from '../../src/api/kv-types.js';
import type { CairnServices } from '../../src/api/services.js';
import type { Member } from '../../src/assembly/member.js';
import { AuthStore } from '../../src/auth/auth-store.js';
import { BACKEND, type Backend } from '../../src/ports/backend.js';
import { etcdUnaryMethods, type EtcdUnaryMethods } from '../../src/etcd-wire/unary-methods.js';
import { TemporaryDirectories, rejection } from '../../src/testkit/temporary-directories.js';
import { MemoryLogger } from '../../src/testkit/memory/memory-logger.js';
import { startTestMember } from '../../src/testkit/test-member.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const EMPTY = Buffer.alloc(0);
const range = (key: string, rangeEnd = '') => ({ key: b(key), range_end: b(rangeEnd), limit: '0', revision: '0' });
const put = (key: string, value = 'v') => ({ key: b(key), value: b(value), lease: '0', prev_kv: false, ignore_value: false, ignore_lease: false });

/** A call through the unary table, as a frontend makes it, with the caller's token. */
function caller(methods: EtcdUnaryMethods, token?: string) {
  return <T = Record<string, unknown>>(name: string, request: object): Promise<T> =>
    methods.get(name)!(request, { encodedSize: 0, ...(token === undefined ? {} : { authToken: token }) }) as Promise<T>;
}

async function refused(call: Promise<unknown>): Promise<[string, number]> {
  const err = (await rejection(call)) as EtcdError;
  return [err.message, err.code];
}

const USER_EMPTY: [string, number] = ['etcdserver: user name is empty', 3];
const DENIED: [string, number] = ['etcdserver: permission denied', 7];

describe('auth on a member: the Auth service, tokens and every check, through the unary table and the scoped services', function () {
  this.timeout(60_000);
  const dirs = new TemporaryDirectories('cairn-auth-member');
  let member: Member;
  let methods: EtcdUnaryMethods;
  let anonymous: ReturnType<typeof caller>;
  let rootToken: string;
  let aliceToken: string;

  const token = async (name: string, password: string): Promise<string> =>
    (await anonymous<{ token: string }>('etcdserverpb.Auth/Authenticate', { name, password })).token;
  const as = (t: string): Promise<CairnServices> => member.services.authorize!({ token: t });

  const log = new MemoryLogger({ level: 'warn' });

  before(async () => {
    member = await startTestMember({ dataDir: await dirs.make(), config: { 'bcrypt-cost': 4 }, logger: log });
    methods = etcdUnaryMethods(member.services, { maxRequestBytes: 1 << 20 });
    anonymous = caller(methods);
    // Set up with auth disabled, as etcdctl does: no credentials needed yet.
    const call = anonymous;
    await call('etcdserverpb.Auth/UserAdd', { name: 'root', password: 'rootpw', options: null, hashedPassword: '' });
    await call('etcdserverpb.Auth/UserGrantRole', { user: 'root', role: 'root' });
    await call('etcdserverpb.Auth/UserAdd', { name: 'alice', password: 'alicepw', options: null, hashedPassword: '' });
    await call('etcdserverpb.Auth/RoleAdd', { name: 'app' });
    // READWRITE on the prefix app/, READ on the key config, WRITE from key z on.
    await call('etcdserverpb.Auth/RoleGrantPermission', { name: 'app', perm: { permType: PermissionType.ReadWrite, key: b('app/'), range_end: b('app0') } });
    await call('etcdserverpb.Auth/RoleGrantPermission', { name: 'app', perm: { permType: PermissionType.Read, key: b('config'), range_end: EMPTY } });
    await call('etcdserverpb.Auth/RoleGrantPermission', { name: 'app', perm: { permType: 'WRITE', key: b('z'), range_end: Buffer.of(0) } });
    await call('etcdserverpb.Auth/UserGrantRole', { user: 'alice', role: 'app' });
    await call('etcdserverpb.KV/Put', put('config', 'c1'));
    await call('etcdserverpb.KV/Put', put('secret', 's1'));
    await call('etcdserverpb.Auth/AuthEnable', {});
    rootToken = await token('root', 'rootpw');
    aliceToken = await token('alice', 'alicepw');
  });
  after(async () => {
    await member.stop();
    await dirs.removeAll();
  });

  it('lets no one without credentials read or write, and still answers Status, MemberList, AuthStatus and LeaseGrant', async () => {
    expect(await refused(anonymous('etcdserverpb.KV/Range', range('config')))).to.deep.equal(USER_EMPTY);
    expect(await refused(anonymous('etcdserverpb.KV/Put', put('app/x')))).to.deep.equal(USER_EMPTY);
    expect(await refused(anonymous('etcdserverpb.Auth/UserList', {}))).to.deep.equal(USER_EMPTY);
    const status = await anonymous<{ enabled: boolean; authRevision: number }>('etcdserverpb.Auth/AuthStatus', {});
    expect(status.enabled).to.equal(true);
    expect(status.authRevision).to.be.greaterThan(0);
    await anonymous('etcdserverpb.Maintenance/Status', {});
    await anonymous('etcdserverpb.Cluster/MemberList', { linearizable: false });
    await anonymous('etcdserverpb.Lease/LeaseGrant', { TTL: '60', ID: '0' });
  });

  it("refuses a wrong password, an unknown user and a made-up token with etcd's errors, and counts the failures", async () => {
    expect(await refused(token('alice', 'guess-7f3q'))).to.deep.equal(['etcdserver: authentication failed, invalid user ID or password', 3]);
    expect(await refused(token('mallory', 'x'))).to.deep.equal(['etcdserver: authentication failed, invalid user ID or password', 3]);
    const forged = caller(methods, 'abcdefghijklmnop.1');
    expect(await refused(forged('etcdserverpb.KV/Range', range('config')))).to.deep.equal(['etcdserver: invalid auth token', 16]);
    // Authenticate works even with a stale token attached (clients re-authenticate that way).
    expect((await forged<{ token: string }>('etcdserverpb.Auth/Authenticate', { name: 'alice', password: 'alicepw' })).token).to.match(/^[a-zA-Z]{16}\.\d+$/);
    expect(await member.services.metrics!.text()).to.match(/cairn_auth_failed_authentications_total [2-9]/);
    // Logged, at most once per interval each, and never with the token or password.
    const warnings = log.lines().filter((l) => l.level === 'warn');
    expect(warnings.map((l) => l.message)).to.include.members(['refused an authentication', 'refused an invalid or expired auth token']);
    expect(JSON.stringify(warnings)).to.not.contain('abcdefghijklmnop').and.to.not.contain('guess-7f3q');
  });

  it("checks reads and writes against the user's roles: key, prefix and from-key, read and write", async () => {
    const alice = caller(methods, aliceToken);
    expect((await alice<{ count: string | number }>('etcdserverpb.KV/Range', range('config'))).count).to.equal(1);
    expect(await refused(alice('etcdserverpb.KV/Range', range('secret')))).to.deep.equal(DENIED);
    expect(await refused(alice('etcdserverpb.KV/Put', put('config')))).to.deep.equal(DENIED);
    await alice('etcdserverpb.KV/Put', put('app/one'));
    await alice('etcdserverpb.KV/Range', range('app/', 'app0'));
    expect(await refused(alice('etcdserverpb.KV/Range', range('app/', 'app1')))).to.deep.equal(DENIED);
    await alice('etcdserverpb.KV/Put', put('zebra'));
    expect(await refused(alice('etcdserverpb.KV/Range', range('zebra')))).to.deep.equal(DENIED);
    expect(await refused(alice('etcdserverpb.KV/DeleteRange', { key: b('app/'), range_end: b('app1'), prev_kv: false }))).to.deep.equal(DENIED);
    // Root may do everything.
    const root = caller(methods, rootToken);
    expect((await root<{ count: number }>('etcdserverpb.KV/Range', range('secret'))).count).to.equal(1);
  });

  it('checks every compare and every operation of a txn, nested txns included', async () => {
    const alice = await as(aliceToken);
    const inside = { target: CompareTarget.Version, result: CompareResult.Greater, version: 0, key: b('app/one') } as const;
    await alice.kv.txn({ compare: [inside], success: [{ requestPut: { key: b('app/two'), value: b('2') } }], failure: [] });
    const outsideCompare = { ...inside, key: b('secret') };
    expect(await refused(alice.kv.txn({ compare: [outsideCompare], success: [], failure: [] }))).to.deep.equal(DENIED);
    const nested = { requestTxn: { compare: [], success: [], failure: [{ requestRange: { key: b('secret') } }] } };
    expect(await refused(alice.kv.txn({ compare: [], success: [{ requestPut: { key: b('app/3'), value: b('3') } }], failure: [nested] }))).to.deep.equal(
      DENIED,
    );
    expect((await member.services.kv.range({ key: b('app/3') })).count).to.equal(0);
    expect(await refused(alice.kv.txn({ compare: [], success: [{ requestDeleteRange: { key: b('secret') } }], failure: [] }))).to.deep.equal(DENIED);
  });

  it('creates a watch only with read on the whole range, and answers a refused one created and canceled as etcd does', async () => {
    const alice = await as(aliceToken);
    const session = alice.watch!.openStream();
    try {
      const ok = session.create({ key: b('app/'), rangeEnd: b('app0') });
      expect(ok.response.canceled).to.equal(false);
      const refusedWatch = session.create({ key: b('a'), rangeEnd: b('b') });
      expect(refusedWatch.watch).to.equal(undefined);
      expect(refusedWatch.response).to.include({
        created: true,
        canceled: true,
        cancelReason: 'rpc error: code = PermissionDenied desc = etcdserver: permission denied',
      });
    } finally {
      session.close();
    }
  });

  it('revokes a lease only with write on every key attached, and TimeToLive needs read on them', async () => {
    const alice = await as(aliceToken);
    const lease = await alice.lease!.grant(60, 0n);
    await member.services.authorize!({ token: rootToken }).then((root) => root.kv.put({ key: b('secret/leased'), value: b('x'), lease: lease.id }));
    expect(await refused(alice.lease!.timeToLive(lease.id, true))).to.deep.equal(DENIED);
    // Without the keys, etcd 3.4 answers anyone.
    expect((await alice.lease!.timeToLive(lease.id, false)).grantedTtl).to.equal(60);
    expect(await refused(alice.lease!.revoke(lease.id))).to.deep.equal(DENIED);
    const mine = await alice.lease!.grant(60, 0n);
    await alice.kv.put({ key: b('app/leased'), value: b('x'), lease: mine.id });
    expect((await alice.lease!.timeToLive(mine.id, true)).keys).to.have.length(1);
    await alice.lease!.revoke(mine.id);
    expect((await member.services.kv.range({ key: b('app/leased') })).count).to.equal(0);
  });

  it('keeps member changes, the Maintenance admin RPCs, compaction, alarm changes, move-leader and auth management for root', async () => {
    const alice = caller(methods, aliceToken);
    const root = caller(methods, rootToken);
    expect(await refused(alice('etcdserverpb.Cluster/MemberAdd', { peerURLs: ['http://127.0.0.1:1'], isLearner: true }))).to.deep.equal(DENIED);
    // etcd's Maintenance server answers with the auth package's own error, code Unknown.
    const maintenanceDenied: [string, number] = ['auth: permission denied', 2];
    expect(await refused(alice('etcdserverpb.Maintenance/HashKV', { revision: '0' }))).to.deep.equal(maintenanceDenied);
    expect(await refused(alice('etcdserverpb.Maintenance/Hash', {}))).to.deep.equal(maintenanceDenied);
    expect(await refused(alice('etcdserverpb.Maintenance/Defragment', {}))).to.deep.equal(maintenanceDenied);
    expect(await refused(anonymous('etcdserverpb.Maintenance/HashKV', { revision: '0' }))).to.deep.equal(['auth: user name is empty', 2]);
    const view = await as(aliceToken);
    expect(() => view.maintenance.snapshot()).to.throw('auth: permission denied');
    // A bad token on a Maintenance RPC is the auth package's error too; elsewhere etcdserver's.
    const forged = caller(methods, 'abcdefghijklmnop.1');
    expect(await refused(forged('etcdserverpb.Maintenance/Alarm', { action: 0, memberID: '0', alarm: 0 }))).to.deep.equal(['auth: invalid auth token', 2]);
    expect(await refused(forged('etcdserverpb.KV/Compact', { revision: '1', physical: false }))).to.deep.equal(['etcdserver: invalid auth token', 16]);
    // Stricter than etcd 3.4-3.6, which checks none of these: compaction, raising or disarming an alarm, moving the leader.
    await anonymous('etcdserverpb.Maintenance/Alarm', { action: 0, memberID: '0', alarm: 0 });
    expect(await refused(alice('etcdserverpb.Maintenance/Alarm', { action: 2, memberID: '0', alarm: 1 }))).to.deep.equal(DENIED);
    expect(await refused(alice('etcdserverpb.Maintenance/MoveLeader', { targetID: '1' }))).to.deep.equal(DENIED);
    expect(await refused(alice('etcdserverpb.KV/Compact', { revision: '1', physical: false }))).to.deep.equal(DENIED);
    expect(await refused(root('etcdserverpb.KV/Compact', { revision: '100000', physical: false }))).to.deep.equal([
      'etcdserver: mvcc: required revision is a future revision',
      11,
    ]);
    await root('etcdserverpb.Maintenance/HashKV', { revision: '0' });
    expect(await refused(alice('etcdserverpb.Auth/UserAdd', { name: 'eve', password: 'x', options: null, hashedPassword: '' }))).to.deep.equal(DENIED);
    expect(await refused(alice('etcdserverpb.Auth/UserList', {}))).to.deep.equal(DENIED);
    expect(await refused(alice('etcdserverpb.Auth/AuthDisable', {}))).to.deep.equal(DENIED);
    // One's own user and one's own roles: allowed, as etcd allows.
    expect((await alice<{ roles: string[] }>('etcdserverpb.Auth/UserGet', { name: 'alice' })).roles).to.deep.equal(['app']);
    expect(await refused(alice('etcdserverpb.Auth/UserGet', { name: 'root' }))).to.deep.equal(DENIED);
    const app = await alice<{ perm: { permType: number; key: Buffer; range_end: Buffer }[] }>('etcdserverpb.Auth/RoleGet', { role: 'app' });
    expect(app.perm.map((p) => [p.key.toString(), p.range_end.toString('latin1'), p.permType])).to.deep.equal([
      ['app/', 'app0', PermissionType.ReadWrite],
      ['config', '', PermissionType.Read],
      ['z', '\0', PermissionType.Write],
    ]);
    expect(await refused(alice('etcdserverpb.Auth/RoleGet', { role: 'root' }))).to.deep.equal(DENIED);
    expect((await root<{ users: string[] }>('etcdserverpb.Auth/UserList', {})).users).to.deep.equal(['alice', 'root']);
    expect(await refused(root('etcdserverpb.Auth/UserDelete', { name: 'root' }))).to.deep.equal(['etcdserver: invalid auth management', 3]);
    expect(await refused(root('etcdserverpb.Auth/UserAdd', { name: 'alice', password: 'x', options: null, hashedPassword: '' }))).to.deep.equal([
      'etcdserver: user name already exists',
      9,
    ]);
  });

  it('refuses at apply a write proposed under an auth revision the store has moved past', async () => {
    const before = await as(aliceToken);
    const auth: AuthService = (await as(rootToken)).auth!;
    await auth.roleAdd('extra');
    // The view still speaks for alice at the old revision: the put is refused when applied.
    expect(await refused(before.kv.put({ key: b('app/late'), value: b('x') }))).to.deep.equal(['etcdserver: revision of auth store is old', 3]);
    expect((await member.services.kv.range({ key: b('app/late') })).count).to.equal(0);
    // A fresh authorization speaks at the new revision.
    await (await as(aliceToken)).kv.put({ key: b('app/late'), value: b('x') });
  });

  it("drops a user's tokens when their password changes, and keeps users, roles and the flag in the Backend", async () => {
    const root = caller(methods, rootToken);
    await root('etcdserverpb.Auth/UserChangePassword', { name: 'alice', password: 'newpw', hashedPassword: '' });
    expect(await refused(caller(methods, aliceToken)('etcdserverpb.KV/Range', range('config')))).to.deep.equal(['etcdserver: invalid auth token', 16]);
    expect(await refused(token('alice', 'alicepw'))).to.deep.equal(['etcdserver: authentication failed, invalid user ID or password', 3]);
    aliceToken = await token('alice', 'newpw');
    await caller(methods, aliceToken)('etcdserverpb.KV/Range', range('config'));

    // What a restart reads: a fresh store over the member's Backend.
    const reread = new AuthStore(member.container.get<Backend>(BACKEND));
    await reread.load();
    expect(reread.contents()).to.deep.equal(member.container.get(AuthStore).contents());
    expect(reread.enabled).to.equal(true);
    expect(reread.userNames()).to.deep.equal(['alice', 'root']);
  });

  it('serves everyone again once root disables auth, and the disabled path hands out the same services', async () => {
    await caller(methods, rootToken)('etcdserverpb.Auth/AuthDisable', {});
    expect(await member.services.authorize!({})).to.equal(member.services);
    expect(member.services.authorize!({ token: 'whatever' })).to.equal(member.services.authorize!({}));
    await anonymous('etcdserverpb.KV/Range', range('secret'));
    expect(await refused(token('root', 'rootpw'))).to.deep.equal(['etcdserver: authentication is not enabled', 9]);
  });
});
