import { strict as assert } from 'node:assert';
import { CairnMemberFixture } from './cairn-member-fixture.js';
import { LeaseNotFoundError, type Client, type LeaseState } from '../src/index.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('leases and sessions', function () {
  let cairn: CairnMemberFixture;
  let client: Client;

  before(async () => {
    cairn = await CairnMemberFixture.start();
    client = cairn.client();
  });
  after(async () => cairn?.close());

  it('grants, lists, renews and revokes leases with IDs above 2^53 kept exact', async () => {
    const id = 2n ** 62n + 12345n; // Number(id) would round this
    const grant = await client.lease.grant(30, { id });
    assert.equal(grant.id, id);
    assert.equal(grant.ttl, 30);
    await client.put('lease/k', 'v', { lease: id });
    assert.equal((await client.get('lease/k'))?.lease, id);
    assert.ok((await client.lease.leases()).includes(id));
    const live = await client.lease.timeToLive(id, { keys: true });
    assert.equal(live.id, id);
    assert.equal(live.grantedTtl, 30);
    assert.ok(live.ttl > 0 && live.ttl <= 30);
    assert.deepEqual(
      live.keys.map((k) => k.toString()),
      ['lease/k'],
    );
    assert.equal(await client.lease.keepAliveOnce(id), 30);
    await client.lease.revoke(id);
    assert.equal(await client.get('lease/k'), undefined);
    assert.equal((await client.lease.timeToLive(id)).ttl, -1);
    assert.equal(await client.lease.keepAliveOnce(id), 0);
    await assert.rejects(client.lease.revoke(id), LeaseNotFoundError);
  });

  it('keeps a lease alive past its TTL and tracks a conservative expiry', async () => {
    const grant = await client.lease.grant(1);
    const keeper = client.lease.keepAlive(grant.id, { ttl: grant.ttl, expiresAt: grant.sentAt + 1000 });
    const states: LeaseState[] = [];
    keeper.on('state', (s) => states.push(s));
    await sleep(2500);
    assert.equal(keeper.state.kind, 'alive');
    assert.ok(states.length >= 4, `renewed ${states.length} times in 2.5 s at ttl/3`);
    const state = keeper.state;
    // The server may raise a short TTL to its minimum; the claim follows the TTL it answers.
    assert.ok(state.kind === 'alive' && state.expiresAt <= Date.now() + state.ttl * 1000 && state.expiresAt > Date.now());
    assert.ok((await client.lease.timeToLive(grant.id)).ttl >= 0);
    keeper.close();
    assert.deepEqual(await keeper.lost, { kind: 'lost', reason: 'closed' });
    assert.equal(keeper.signal.aborted, true);
    await sleep(state.ttl * 1000 + 600);
    assert.equal((await client.lease.timeToLive(grant.id)).ttl, -1, 'a closed keeper stops renewing');
  });

  it('reports revoked (through this client) and not-found (revoked elsewhere)', async () => {
    const a = await client.lease.grant(3);
    const keeperA = client.lease.keepAlive(a.id, { ttl: 3 });
    await client.lease.revoke(a.id);
    assert.equal((await keeperA.lost).reason, 'revoked');

    const b = await client.lease.grant(3);
    const keeperB = client.lease.keepAlive(b.id, { ttl: 3 });
    const other = cairn.client();
    await other.lease.revoke(b.id);
    const started = Date.now();
    const lost = await keeperB.lost;
    assert.equal(lost.reason, 'not-found');
    assert.ok(Date.now() - started < 2000, 'noticed at the next renewal (ttl/3)');
  });

  it('sessions revoke on close and leave the lease on orphan', async () => {
    const session = await client.session({ ttl: 5 });
    assert.equal(session.ttl, 5);
    await client.put('session/k', 'v', { lease: session.lease });
    assert.equal(session.state.kind, 'alive');
    await session.close();
    assert.equal(session.signal.aborted, true);
    assert.equal((await session.lost).reason, 'closed');
    assert.equal(await client.get('session/k'), undefined);

    const orphaned = await client.session({ ttl: 5 });
    orphaned.orphan();
    assert.ok((await client.lease.timeToLive(orphaned.lease)).ttl > 0);
    const reused = await client.session({ lease: orphaned.lease });
    assert.equal(reused.lease, orphaned.lease);
    assert.equal(reused.ttl, 5);
    assert.equal(reused.state.kind, 'alive');
    await reused.close();
    await assert.rejects(client.session({ lease: orphaned.lease }), LeaseNotFoundError);
  });
});

describe('a lease keeper whose member goes away', function () {
  it('reports lost by local expiry, no later than the server could expire the lease', async () => {
    const cairn = await CairnMemberFixture.start();
    try {
      const client = cairn.client();
      const session = await client.session({ ttl: 2 });
      await sleep(1200);
      const before = session.state;
      assert.ok(before.kind === 'alive');
      let lastAlive = before;
      await cairn.stop();
      const stoppedAt = Date.now();
      const keeperStates: LeaseState[] = [];
      const watcher = setInterval(() => {
        const s = session.state;
        keeperStates.push(s);
        if (s.kind === 'alive') lastAlive = s;
      }, 20);
      const lost = await session.lost;
      const lostAt = Date.now();
      clearInterval(watcher);
      assert.equal(lost.reason, 'expired');
      assert.equal(session.signal.aborted, true);
      // Never alive past the expiry it claimed, and that expiry was at most one TTL after the stop.
      assert.ok(lostAt <= lastAlive.expiresAt + 200, `lost at ${lostAt - lastAlive.expiresAt} ms after the claimed expiry`);
      assert.ok(lastAlive.expiresAt <= stoppedAt + 2000, 'the claimed expiry is bounded by the last acknowledged renewal + ttl');
    } finally {
      await cairn.close();
    }
  });
});
