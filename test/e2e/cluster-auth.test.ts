import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort } from '@cairn/core/testkit';
import { GrpcCaller } from '../compat/auth-callers.js';
import { FAST_BCRYPT } from '../compat/auth-servers.js';
import { etcdctl } from '../compat/etcdctl.js';
import { type ServerProcess, skipWithoutEtcdctl } from '../compat/processes.js';
import { restoreSnapshot, startRestoredCairn } from '../compat/restored-member.js';
import { ProcessCluster, type MemberProcess } from './cluster-processes.js';
import { eventually } from './cluster-scenarios.js';

const ROOT = ['--user', 'root:root-pw'];
const RANGE_APP_X = { key: Buffer.from('app/x').toString('base64') };

/** Fails the test with etcdctl's output unless it exited 0. */
async function ok(member: MemberProcess, args: readonly string[], stdin?: string): Promise<string> {
  const r = await member.etcdctl(args, stdin);
  expect(r.code, `etcdctl ${args.join(' ')} on ${member.spec.name}: ${r.stdout}${r.stderr}`).to.equal(0);
  return r.stdout;
}

/**
 * Auth on a 3-member cluster of real cairn processes: the auth store is replicated through Raft,
 * so what one member is told (users, roles, auth enable, a deleted user, a new password) every
 * member knows; and it travels in a snapshot to a restored member.
 */
describe('auth on a 3-member cluster', function () {
  this.timeout(120_000);
  let dir: string;
  let cluster: ProcessCluster | undefined;
  const callers: GrpcCaller[] = [];
  const restored: ServerProcess[] = [];

  before(async function () {
    skipWithoutEtcdctl(this);
    dir = await mkdtemp(join(tmpdir(), 'cairn-cluster-auth-'));
    cluster = await ProcessCluster.start('cairn', dir, 3, { extraArgs: [...FAST_BCRYPT] });
    await cluster.leader();
  });
  after(async () => {
    for (const c of callers) c.close();
    for (const r of restored) await r.stop();
    await cluster?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const members = (): MemberProcess[] => cluster!.members;
  const grpcOn = (member: { readonly endpoint: string }): GrpcCaller => {
    const caller = new GrpcCaller(member.endpoint);
    callers.push(caller);
    return caller;
  };

  it('enabled through one member, a user made on member 1 authenticates and is checked on members 2 and 3', async () => {
    const [m1, m2, m3] = members() as [MemberProcess, MemberProcess, MemberProcess];
    await ok(m1, ['user', 'add', 'root', '--new-user-password=root-pw']);
    await ok(m1, ['user', 'grant-role', 'root', 'root']);
    await ok(m1, ['role', 'add', 'app']);
    await ok(m1, ['role', 'grant-permission', 'app', 'readwrite', 'app/', '--prefix']);
    for (const user of ['alice', 'bob', 'carol']) {
      await ok(m1, ['user', 'add', user, `--new-user-password=${user}-pw`]);
      await ok(m1, ['user', 'grant-role', user, 'app']);
    }
    await ok(m1, ['put', 'secret', 's']);
    expect(await ok(m1, ['auth', 'enable'])).to.equal('Authentication Enabled\n');

    for (const member of [m2, m3]) {
      await eventually(
        `${member.spec.name} knows alice`,
        10_000,
        async () => (await member.etcdctl(['--user', 'alice:alice-pw', 'put', 'app/x', member.spec.name])).code === 0,
      );
      expect(await ok(member, ['--user', 'alice:alice-pw', 'get', 'app/x', '--print-value-only'])).to.equal(`${member.spec.name}\n`);
      const denied = await member.etcdctl(['--user', 'alice:alice-pw', 'get', 'secret']);
      expect(denied.stderr).to.contain('Error: etcdserver: permission denied');
      const anonymous = await member.etcdctl(['get', 'secret']);
      expect(anonymous.stderr).to.contain('Error: etcdserver: user name is empty');
      expect(await ok(member, [...ROOT, 'user', 'list'])).to.equal('alice\nbob\ncarol\nroot\n');
    }
  });

  it('a token of a deleted user, or issued before a password change, stops working on every member', async () => {
    // A token from each member, for each of the two users; each works where it was issued.
    const tokens: { member: MemberProcess; caller: GrpcCaller; bob: string; carol: string }[] = [];
    for (const member of members()) {
      const caller = grpcOn(member);
      const entry = { member, caller, bob: await caller.authenticate('bob', 'bob-pw'), carol: await caller.authenticate('carol', 'carol-pw') };
      expect(await caller.withToken(entry.bob).unary('KV', 'Range', RANGE_APP_X)).to.equal('ok');
      expect(await caller.withToken(entry.carol).unary('KV', 'Range', RANGE_APP_X)).to.equal('ok');
      tokens.push(entry);
    }
    const m1 = members()[0]!;
    expect(await ok(m1, [...ROOT, 'user', 'delete', 'bob'])).to.equal('User bob deleted\n');
    expect(await ok(m1, [...ROOT, 'user', 'passwd', 'carol', '--interactive=false'], 'carol-new\n')).to.equal('Password updated\n');

    for (const { member, caller, bob, carol } of tokens) {
      await eventually(`${member.spec.name} refuses the old tokens`, 10_000, async () => {
        const asBob = await caller.withToken(bob).unary('KV', 'Range', RANGE_APP_X);
        const asCarol = await caller.withToken(carol).unary('KV', 'Range', RANGE_APP_X);
        return asBob !== 'ok' && asCarol !== 'ok';
      });
      expect(await caller.withToken(bob).unary('KV', 'Range', RANGE_APP_X), `bob's token on ${member.spec.name}`).to.equal(
        'error 16 etcdserver: invalid auth token',
      );
      expect(await caller.withToken(carol).unary('KV', 'Range', RANGE_APP_X), `carol's old token on ${member.spec.name}`).to.equal(
        'error 16 etcdserver: invalid auth token',
      );
      const oldPassword = await member.etcdctl(['--user', 'carol:carol-pw', 'get', 'app/x']);
      expect(oldPassword.stderr).to.contain('Error: etcdserver: authentication failed, invalid user ID or password');
      const deleted = await member.etcdctl(['--user', 'bob:bob-pw', 'get', 'app/x']);
      expect(deleted.stderr).to.contain('Error: etcdserver: authentication failed, invalid user ID or password');
      expect(await ok(member, ['--user', 'carol:carol-new', 'get', 'app/x', '--print-value-only'])).to.not.equal('');
    }
  });

  it('etcdctl snapshot save, then cairn snapshot restore: users, roles and the enabled flag come back', async () => {
    const snapshot = join(dir, 'auth.snapshot.db');
    await ok(members()[0]!, [...ROOT, 'snapshot', 'save', snapshot]);
    const peerPort = await freeLoopbackPort();
    const peer = `http://127.0.0.1:${peerPort}`;
    const dataDir = join(dir, 'restored');
    const member = { name: 'r1', token: 'restored-auth', peer };
    const restore = await restoreSnapshot(snapshot, dataDir, member, dir);
    expect(restore.code, restore.stderr).to.equal(0);
    const server = await startRestoredCairn(dataDir, member, FAST_BCRYPT);
    restored.push(server);
    // Enabled: no user, no answer.
    const anonymous = await etcdctl(server.endpoint, ['get', 'app/x']);
    expect(anonymous.stderr).to.contain('Error: etcdserver: user name is empty');
    // Users (with their current passwords), roles and permissions.
    expect((await etcdctl(server.endpoint, [...ROOT, 'user', 'list'])).stdout).to.equal('alice\ncarol\nroot\n');
    expect((await etcdctl(server.endpoint, [...ROOT, 'role', 'list'])).stdout).to.equal('app\n');
    expect((await etcdctl(server.endpoint, [...ROOT, 'role', 'get', 'app'])).stdout).to.equal(
      'Role app\nKV Read:\n\t[app/, app0) (prefix app/)\nKV Write:\n\t[app/, app0) (prefix app/)\n',
    );
    expect((await etcdctl(server.endpoint, [...ROOT, 'user', 'get', 'carol'])).stdout).to.equal('User: carol\nRoles: app\n');
    expect((await etcdctl(server.endpoint, ['--user', 'carol:carol-new', 'get', 'app/x', '--print-value-only'])).code).to.equal(0);
    expect((await etcdctl(server.endpoint, ['--user', 'carol:carol-new', 'get', 'secret'])).stderr).to.contain('Error: etcdserver: permission denied');
    expect((await etcdctl(server.endpoint, ['--user', 'bob:bob-pw', 'get', 'app/x'])).stderr).to.contain(
      'Error: etcdserver: authentication failed, invalid user ID or password',
    );
    const status = await grpcOn(server).call('Auth', 'AuthStatus', {});
    expect(status['enabled']).to.equal(true);
  });
});
