import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PermissionType } from '../../src/api/auth-types.js';
import { authRestoreOps } from '../../src/auth/auth-snapshot.js';
import { AuthStore } from '../../src/auth/auth-store.js';
import { PasswordHasher } from '../../src/auth/password-hasher.js';
import { openEtcdSnapshot } from '../../src/etcd-snapshot/etcd-snapshot-reader.js';
import { MemoryBackend } from '../../src/memory/memory-backend.js';
import { runCommand } from '../../src/testkit/child-processes.js';
import { freeLoopbackPort, loopbackPortOpen, loopbackUrlFlags } from '../../src/testkit/loopback-ports.js';
import { TemporaryDirectories } from '../../src/testkit/temporary-directories.js';
import { startTestMember } from '../../src/testkit/test-member.js';

const ETCD = '/usr/bin/etcd';

/** The real-etcd half of a test needs Debian's etcd-server: say so, never pass silently. */
function skipWithoutEtcd(context: Mocha.Context): void {
  console.log(`      skipped: ${ETCD} is missing (apt-get install etcd-server); the Cairn half ran`);
  context.skip();
}
const ETCDCTL = '/usr/bin/etcdctl';
const b = (s: string): Uint8Array => Buffer.from(s, 'latin1');

/** A real etcd 3.4 on loopback ports, in `dataDir`; stop it with the returned function. */
async function startEtcd(dataDir: string, ports?: { client: number; peer: number }): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const client = ports?.client ?? (await freeLoopbackPort());
  const peer = ports?.peer ?? (await freeLoopbackPort());
  const child: ChildProcess = spawn(
    ETCD,
    ['--name', 'default', '--data-dir', dataDir, ...loopbackUrlFlags(client, peer), '--initial-cluster', `default=http://127.0.0.1:${peer}`],
    {
      stdio: 'ignore',
    },
  );
  for (let i = 0; i < 200 && !(await loopbackPortOpen(client)); i++) await new Promise((r) => setTimeout(r, 50));
  const endpoint = `127.0.0.1:${client}`;
  // Ready once it answers Status (which needs no user, auth enabled or not).
  for (let i = 0; i < 100; i++) {
    if ((await etcdctl(endpoint, ['endpoint', 'status'])).code === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

const etcdctl = (endpoint: string, args: string[]) => runCommand(ETCDCTL, ['--endpoints', endpoint, ...args], { ...process.env, ETCDCTL_API: '3' }, 30_000);

describe("auth in etcd's snapshot files (auth, authUsers, authRoles buckets)", function () {
  this.timeout(60_000);
  const dirs = new TemporaryDirectories('cairn-auth-snapshot');
  after(() => dirs.removeAll());

  it("writes users, roles and the flag into a member's snapshot, readable back and by a real etcd restored from it", async function () {
    const dir = await dirs.make();
    const member = await startTestMember({ dataDir: join(dir, 'member'), config: { 'bcrypt-cost': 4 } });
    const file = join(dir, 'cairn.db');
    try {
      const auth = member.services.auth!;
      await auth.userAdd('root', 'rootpw', { noPassword: false });
      await auth.userGrantRole('root', 'root');
      await auth.userAdd('alice', 'alicepw', { noPassword: false });
      await auth.roleAdd('app');
      await auth.roleGrantPermission('app', { permType: PermissionType.ReadWrite, key: b('app/'), rangeEnd: b('app0') });
      await auth.userGrantRole('alice', 'app');
      await member.services.kv.put({ key: b('app/k'), value: b('v') });
      await auth.enable();
      const root = await member.services.authorize!({ token: (await auth.authenticate('root', 'rootpw')).token });
      await pipeline(Readable.from(root.maintenance.snapshot()), createWriteStream(file));
    } finally {
      await member.stop();
    }

    const snapshot = await openEtcdSnapshot(file);
    try {
      expect(snapshot.auth?.enabled).to.equal(true);
      expect(snapshot.auth?.users.map(([name]) => name)).to.deep.equal(['alice', 'root']);
      const backend = new MemoryBackend();
      await backend.write(authRestoreOps(snapshot.auth!));
      const store = new AuthStore(backend);
      await store.load();
      expect(store.user('alice')!.roles).to.deep.equal(['app']);
      expect(await new PasswordHasher({ bcryptCost: 4 }).matches('alicepw', store.user('alice')!.password)).to.equal(true);
    } finally {
      await snapshot.close();
    }

    if (!existsSync(ETCD)) skipWithoutEtcd(this);
    // etcd restores the file and enforces what it carries: the bucket layout and protobufs are etcd's.
    const restored = join(dir, 'etcd-restored');
    const ports = { client: await freeLoopbackPort(), peer: await freeLoopbackPort() };
    const peerUrl = `http://127.0.0.1:${ports.peer}`;
    const restore = [
      'snapshot',
      'restore',
      file,
      '--data-dir',
      restored,
      '--skip-hash-check',
      '--initial-cluster',
      `default=${peerUrl}`,
      '--initial-advertise-peer-urls',
      peerUrl,
    ];
    expect((await runCommand(ETCDCTL, restore, { ...process.env, ETCDCTL_API: '3' })).code).to.equal(0);
    const etcd = await startEtcd(restored, ports);
    try {
      const asAlice = await etcdctl(etcd.endpoint, ['--user', 'alice:alicepw', 'get', 'app/k', '--print-value-only']);
      expect(asAlice.stdout.trim()).to.equal('v');
      expect((await etcdctl(etcd.endpoint, ['--user', 'alice:alicepw', 'put', 'other', 'x'])).stderr).to.contain('etcdserver: permission denied');
      const role = await etcdctl(etcd.endpoint, ['--user', 'root:rootpw', 'role', 'get', 'app']);
      expect(role.stdout).to.contain('[app/, app0)');
    } finally {
      await etcd.stop();
    }
  });

  it("reads a real etcd's snapshot with auth: its users (with etcd's bcrypt hashes), roles and flag restore", async function () {
    if (!existsSync(ETCD)) skipWithoutEtcd(this);
    const dir = await dirs.make();
    const etcd = await startEtcd(join(dir, 'etcd'));
    const file = join(dir, 'etcd.db');
    try {
      for (const args of [
        ['user', 'add', 'root:rootpw'],
        ['user', 'grant-role', 'root', 'root'],
        ['user', 'add', 'bob:bobpw'],
        ['role', 'add', 'ops'],
        ['role', 'grant-permission', 'ops', '--prefix=true', 'readwrite', 'ops/'],
        ['role', 'grant-permission', 'ops', '--from-key', 'read', 'z'],
        ['user', 'grant-role', 'bob', 'ops'],
        ['auth', 'enable'],
      ]) {
        const result = await etcdctl(etcd.endpoint, args);
        expect(result.code, `etcdctl ${args.join(' ')}: ${result.stderr}`).to.equal(0);
      }
      expect((await etcdctl(etcd.endpoint, ['--user', 'root:rootpw', 'snapshot', 'save', file])).code).to.equal(0);
    } finally {
      await etcd.stop();
    }
    const snapshot = await openEtcdSnapshot(file);
    try {
      const backend = new MemoryBackend();
      await backend.write(authRestoreOps(snapshot.auth!));
      const store = new AuthStore(backend);
      await store.load();
      expect(store.enabled).to.equal(true);
      expect(store.userNames()).to.deep.equal(['bob', 'root']);
      expect(store.user('bob')!.roles).to.deep.equal(['ops']);
      expect(store.role('ops')!.permissions.map((p) => [Buffer.from(p.key).toString(), Buffer.from(p.rangeEnd).toString('latin1'), p.permType])).to.deep.equal([
        ['ops/', 'ops0', PermissionType.ReadWrite],
        ['z', '\0', PermissionType.Read],
      ]);
      expect(await new PasswordHasher({ bcryptCost: 4 }).matches('bobpw', store.user('bob')!.password)).to.equal(true);
      const bob = { username: 'bob', revision: store.revision };
      store.checkPermitted(bob, b('ops/1'), undefined, PermissionType.Write);
      store.checkPermitted(bob, b('zz'), Uint8Array.of(0), PermissionType.Read);
    } finally {
      await snapshot.close();
    }
  });
});
