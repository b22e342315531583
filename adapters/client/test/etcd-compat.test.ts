import { strict as assert } from 'node:assert';
import { EtcdProcessFixture } from './etcd-process-fixture.js';
import { Client, CompactedError, Compare, LeaseNotFoundError, Op, type WatchEvent } from '../src/index.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('against a real etcd 3.4', function () {
  let etcd: EtcdProcessFixture | undefined;
  let client: Client;

  before(async function () {
    if (!EtcdProcessFixture.available()) {
      console.log('    skipped: /usr/bin/etcd is not installed');
      this.skip();
    }
    etcd = await EtcdProcessFixture.start();
    client = new Client({ endpoints: [etcd.endpoint] });
  });
  after(async () => {
    await client?.close();
    await etcd?.close();
  });

  it('does KV, txn, pagination and compaction', async () => {
    for (let i = 0; i < 7; i++) await client.put(`e/${i}`, `${i}`);
    const keys: string[] = [];
    for await (const kv of client.iterate('e/', { prefix: true, pageSize: 3 })) keys.push(kv.key.toString());
    assert.deepEqual(
      keys,
      Array.from({ length: 7 }, (_, i) => `e/${i}`),
    );
    const txn = await client
      .txn()
      .if(Compare.value('e/0', '=', '0'))
      .then(Op.put('e/0', 'x'), Op.get('e/1'))
      .commit();
    assert.equal(txn.succeeded, true);
    const head = await client.put('e/0', 'y');
    await client.compact(head.header.revision);
    await assert.rejects(client.get('e/0', { revision: 2n }), CompactedError);
  });

  it('watches with prevKv, and reports a compacted start with its revision', async () => {
    const watch = client.watch('ew/', { prefix: true, prevKv: true });
    await watch.ready;
    const events: WatchEvent[] = [];
    const done = (async () => {
      for await (const e of watch) events.push(e);
    })();
    await client.put('ew/a', '1');
    await client.put('ew/a', '2');
    await client.delete('ew/a');
    while (events.length < 3) await sleep(10);
    watch.close();
    await done;
    assert.deepEqual(
      events.map((e) => `${e.type}:${e.prevKv?.value.toString() ?? '-'}`),
      ['put:-', 'put:1', 'delete:2'],
    );
    const now = await client.put('ew/b', 'x');
    await client.compact(now.header.revision);
    const compacted = client.watch('ew/', { prefix: true, startRevision: 2n });
    const err = await (async () => {
      for await (const _ of compacted) void _;
    })().catch((e: unknown) => e);
    assert.ok(err instanceof CompactedError);
    assert.equal(err.compactRevision, now.header.revision);
  });

  it('keeps leases and sessions alive, with exact 64-bit lease IDs', async () => {
    const id = 2n ** 62n + 7n;
    const grant = await client.lease.grant(2, { id });
    assert.equal(grant.id, id);
    const keeper = client.lease.keepAlive(id, { ttl: grant.ttl, expiresAt: grant.sentAt + grant.ttl * 1000 });
    await sleep(3000);
    assert.equal(keeper.state.kind, 'alive');
    await client.lease.revoke(id);
    assert.equal((await keeper.lost).reason, 'revoked');
    await assert.rejects(client.lease.revoke(id), LeaseNotFoundError);
    const session = await client.session({ ttl: 5 });
    await session.close();
    assert.equal((await client.lease.timeToLive(session.lease)).ttl, -1);
  });

  it('reports a session lost by itself while the member is paused past the TTL, and watches resume after', async () => {
    const session = await client.session({ ttl: 2 });
    const watch = client.watch('paused/', { prefix: true });
    await watch.ready;
    const keys: string[] = [];
    const reading = (async () => {
      for await (const e of watch) keys.push(e.kv.key.toString());
    })();
    await client.put('paused/1', 'a');
    let lastExpiry = 0;
    const track = setInterval(() => {
      const state = session.state;
      if (state.kind === 'alive') lastExpiry = state.expiresAt;
    }, 5);
    await sleep(500);
    etcd!.pause();
    const pausedAt = Date.now();
    // session.lost never rejects; resume the member whatever the assertions say.
    const lost = await session.lost;
    const lostAt = Date.now();
    etcd!.resume();
    clearInterval(track);
    assert.equal(lost.reason, 'expired');
    // The server could expire the lease from (last acknowledged renewal's send time + ttl) on; the
    // keeper said lost no later than that, and that moment was at most one TTL after the pause.
    assert.ok(lostAt <= lastExpiry + 150, `lost ${lostAt - lastExpiry} ms after the claimed expiry`);
    assert.ok(lastExpiry <= pausedAt + 2000);
    assert.equal(session.signal.aborted, true);
    await client.put('paused/2', 'b', { timeoutMs: 10_000 });
    const started = Date.now();
    while (keys.length < 2 && Date.now() - started < 10_000) await sleep(20);
    watch.close();
    await reading;
    assert.deepEqual(keys, ['paused/1', 'paused/2']);
  });
});
