import { strict as assert } from 'node:assert';
import { TestCertificates, type TestAuthority } from '@cairn/core/testkit';
import { CairnMemberFixture } from './cairn-member-fixture.js';
import { InterposedChannel } from './interposed-channel.js';
import { AuthFailedError, Client, EtcdError, PermissionDeniedError, UnavailableError } from '../src/index.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('auth', function () {
  let cairn: CairnMemberFixture;

  before(async () => {
    // Simple tokens live one second after their last use here, so a test can outwait one.
    cairn = await CairnMemberFixture.start({ config: { 'auth-token-ttl': 1 } });
    const admin = cairn.client();
    await admin.raw.unary('Auth', 'UserAdd', { name: 'root', password: 'rootpw', options: { no_password: false }, hashedPassword: '' });
    await admin.raw.unary('Auth', 'RoleAdd', { name: 'root' });
    await admin.raw.unary('Auth', 'UserGrantRole', { user: 'root', role: 'root' });
    await admin.raw.unary('Auth', 'AuthEnable', {});
  });
  after(async () => cairn?.close());

  it('authenticates, sends the token, and re-authenticates once when the token expired', async () => {
    let channel: InterposedChannel | undefined;
    const client = new Client({
      endpoints: [cairn.endpoint],
      auth: { username: 'root', password: 'rootpw' },
      channel: (endpoint) => (channel = new InterposedChannel(endpoint)),
    });
    try {
      await client.put('auth/k', 'v');
      assert.equal((await client.get('auth/k'))?.value.toString(), 'v');
      assert.deepEqual(channel!.unaryCalls, ['Auth.Authenticate', 'KV.Put', 'KV.Range']);
      await sleep(2200); // the token expires on the member
      channel!.unaryCalls.length = 0;
      // A write too: the server refused the stale token before doing anything, so one retry is safe.
      await client.put('auth/k', 'v2');
      assert.deepEqual(channel!.unaryCalls, ['KV.Put', 'Auth.Authenticate', 'KV.Put']);
      assert.equal((await client.get('auth/k'))?.value.toString(), 'v2');
      // Watches and sessions carry the token too.
      const watch = client.watch('auth/k');
      await watch.ready;
      watch.close();
      const session = await client.session({ ttl: 5 });
      await sleep(300);
      assert.equal(session.state.kind, 'alive');
      await session.close();
    } finally {
      await client.close();
    }
  });

  it('ends a watch the server cancels with a reason with the typed error', async () => {
    const admin = new Client({ endpoints: [cairn.endpoint], auth: { username: 'root', password: 'rootpw' } });
    const limited = new Client({ endpoints: [cairn.endpoint], auth: { username: 'limited', password: 'pw' } });
    try {
      await admin.raw.unary('Auth', 'UserAdd', { name: 'limited', password: 'pw', options: { no_password: false }, hashedPassword: '' });
      const watch = limited.watch('secret/', { prefix: true });
      const err = await (async () => {
        for await (const _ of watch) void _;
      })().catch((e: unknown) => e);
      assert.ok(err instanceof PermissionDeniedError, `got ${String(err)}`);
      assert.equal(err.details, 'etcdserver: permission denied');
    } finally {
      await admin.close();
      await limited.close();
    }
  });

  it('fails with typed errors for wrong passwords and missing tokens', async () => {
    const wrong = new Client({ endpoints: [cairn.endpoint], auth: { username: 'root', password: 'nope' } });
    const anonymous = new Client({ endpoints: [cairn.endpoint] });
    try {
      const err = await wrong.get('auth/k').then(
        () => assert.fail('must fail'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof AuthFailedError);
      assert.equal(err.details, 'etcdserver: authentication failed, invalid user ID or password');
      await assert.rejects(anonymous.get('auth/k'), (e: unknown) => e instanceof EtcdError && !(e instanceof UnavailableError));
    } finally {
      await wrong.close();
      await anonymous.close();
    }
  });
});

describe('TLS', function () {
  let certificates: TestCertificates;
  let cairn: CairnMemberFixture;
  let ca: TestAuthority;

  before(async function () {
    try {
      certificates = new TestCertificates();
    } catch (err) {
      console.log(`    skipped: cannot make test certificates (${(err as Error).message})`);
      this.skip();
    }
    ca = certificates.authority('ca');
    const server = certificates.issue(ca, 'server');
    cairn = await CairnMemberFixture.start({
      https: true,
      config: { 'cert-file': server.certFile, 'key-file': server.keyFile, 'trusted-ca-file': ca.caFile, 'client-cert-auth': true },
    });
  });
  after(async () => {
    await cairn?.close();
    certificates?.remove();
  });

  it('talks to an https endpoint with a CA and a client certificate (files or buffers)', async () => {
    const user = certificates.issue(ca, 'app');
    const client = cairn.client({ tls: { ca: ca.caFile, cert: user.certFile, key: user.keyFile } });
    await client.put('tls/k', 'v');
    assert.equal((await client.get('tls/k'))?.value.toString(), 'v');
    const { readFileSync } = await import('node:fs');
    const buffers = cairn.client({ tls: { ca: readFileSync(ca.caFile), cert: readFileSync(user.certFile), key: readFileSync(user.keyFile) } });
    assert.equal((await buffers.get('tls/k'))?.value.toString(), 'v');
  });

  it('fails without a client certificate the member requires', async () => {
    const client = cairn.client({ tls: { ca: ca.caFile }, dialTimeoutMs: 2000 });
    await assert.rejects(client.get('tls/k', { timeoutMs: 3000 }), UnavailableError);
  });
});
