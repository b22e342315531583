import { expect } from 'chai';
import { Etcd3, EtcdAuthenticationFailedError, EtcdPermissionDeniedError, Range, type IKeyValue } from 'etcd3';
import { cairnProcessFixture } from './cairn-fixture.js';
import { FAST_BCRYPT } from './auth-servers.js';

/** Rejects with what `p` rejected with; fails the test if it resolved. */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('the etcd3 npm client with auth: {username, password} against an auth-enabled cairn', function () {
  this.timeout(60_000);
  const cairn = cairnProcessFixture('etcd3-auth', [...FAST_BCRYPT]);
  const clients: Etcd3[] = [];
  const client = (auth?: { username: string; password: string }): Etcd3 => {
    const made = new Etcd3({ hosts: cairn.server.endpoint, ...(auth === undefined ? {} : { auth }) });
    clients.push(made);
    return made;
  };
  after(() => {
    for (const c of clients) c.close();
  });

  before(async () => {
    // Users and roles through the client's own auth API, then auth on.
    const admin = client();
    await admin.user('root').create('root-pw');
    await admin.user('root').addRole('root');
    await admin.role('app').create();
    await admin.role('app').grant({ permission: 'Readwrite', range: Range.prefix('app/') });
    await admin.user('app').create('app-pw');
    await admin.user('app').addRole('app');
    await admin.put('secret').value('s');
    await admin.auth.authEnable();
  });

  it('puts, gets, watches and uses leases within the user’s permissions', async () => {
    const app = client({ username: 'app', password: 'app-pw' });
    await app.put('app/a').value('1');
    expect(await app.get('app/a').string()).to.equal('1');
    expect(await app.getAll().prefix('app/').strings()).to.deep.equal({ 'app/a': '1' });

    const watcher = await app.watch().prefix('app/').create();
    const seen = new Promise<IKeyValue>((resolve) => watcher.on('put', resolve));
    await app.put('app/watched').value('w');
    expect((await seen).key.toString()).to.equal('app/watched');
    await watcher.cancel();

    const lease = app.lease(30);
    await lease.put('app/leased').value('x');
    expect(await app.get('app/leased').string()).to.equal('x');
    await lease.revoke();
    expect(await app.get('app/leased').string()).to.equal(null);
  });

  it('is refused outside them with etcd’s permission error', async () => {
    const app = client({ username: 'app', password: 'app-pw' });
    expect(await rejection(app.get('secret').string())).to.be.instanceOf(EtcdPermissionDeniedError);
    expect(await rejection(app.put('other').value('x').exec())).to.be.instanceOf(EtcdPermissionDeniedError);
    const root = client({ username: 'root', password: 'root-pw' });
    expect(await root.get('secret').string()).to.equal('s');
  });

  it('fails with a wrong password or an unknown user', async () => {
    const wrong = client({ username: 'app', password: 'wrong' });
    expect(await rejection(wrong.get('app/a').string())).to.be.instanceOf(EtcdAuthenticationFailedError);
    const ghost = client({ username: 'ghost', password: 'app-pw' });
    expect(await rejection(ghost.put('app/b').value('x').exec())).to.be.instanceOf(EtcdAuthenticationFailedError);
    // Nothing they sent landed.
    const app = client({ username: 'app', password: 'app-pw' });
    expect(await app.get('app/b').string()).to.equal(null);
  });
});
