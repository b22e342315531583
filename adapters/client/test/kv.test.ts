import { strict as assert } from 'node:assert';
import { CairnMemberFixture } from './cairn-member-fixture.js';
import { Compare, DeadlineExceededError, Op, type Client } from '../src/index.js';

describe('KV against a Cairn member', function () {
  let cairn: CairnMemberFixture;
  let client: Client;

  before(async () => {
    cairn = await CairnMemberFixture.start();
    client = cairn.client();
  });
  after(async () => cairn?.close());

  it('puts, gets and deletes keys with bigint revisions', async () => {
    const put = await client.put('kv/a', 'one');
    assert.equal(typeof put.header.revision, 'bigint');
    const kv = await client.get('kv/a');
    assert.ok(kv !== undefined);
    assert.equal(kv.value.toString(), 'one');
    assert.equal(kv.modRevision, put.header.revision);
    assert.equal(kv.createRevision, put.header.revision);
    assert.equal(kv.version, 1n);
    const second = await client.put('kv/a', Buffer.from([0, 255, 1]), { prevKv: true });
    assert.equal(second.prevKv?.value.toString(), 'one');
    assert.deepEqual([...(await client.get('kv/a'))!.value], [0, 255, 1]);
    const deleted = await client.delete('kv/a', { prevKv: true });
    assert.equal(deleted.deleted, 1n);
    assert.deepEqual([...deleted.prevKvs[0]!.value], [0, 255, 1]);
    assert.equal(await client.get('kv/a'), undefined);
  });

  it('ranges over a prefix with sort, limit, count and old revisions', async () => {
    const first = await client.put('range/b', '2');
    await client.put('range/a', '1');
    await client.put('range/c', '3');
    await client.put('rangeX', 'outside');
    const all = await client.range('range/', { prefix: true });
    assert.deepEqual(
      all.kvs.map((kv) => kv.key.toString()),
      ['range/a', 'range/b', 'range/c'],
    );
    assert.equal(all.count, 3n);
    const limited = await client.range('range/', { prefix: true, limit: 2, sort: { target: 'key', order: 'descend' } });
    assert.deepEqual(
      limited.kvs.map((kv) => kv.key.toString()),
      ['range/c', 'range/b'],
    );
    assert.equal(limited.more, true);
    const counted = await client.range('range/', { prefix: true, countOnly: true });
    assert.equal(counted.count, 3n);
    assert.equal(counted.kvs.length, 0);
    const old = await client.range('range/', { prefix: true, revision: first.header.revision });
    assert.deepEqual(
      old.kvs.map((kv) => kv.key.toString()),
      ['range/b'],
    );
    const between = await client.range('range/a', { end: 'range/c' });
    assert.equal(between.kvs.length, 2);
  });

  it('iterates page by page at the revision of the first page', async () => {
    for (let i = 0; i < 25; i++) await client.put(`page/${String(i).padStart(2, '0')}`, `v${i}`);
    const seen: string[] = [];
    for await (const kv of client.iterate('page/', { prefix: true, pageSize: 4 })) {
      seen.push(kv.key.toString());
      // Writes during the iteration are not seen: every page reads the first page's revision.
      if (seen.length === 1) await client.put('page/99', 'late');
    }
    assert.equal(seen.length, 25);
    assert.deepEqual(seen, [...seen].sort());
    assert.equal(new Set(seen).size, 25);
    assert.ok(!seen.includes('page/99'));
  });

  it('commits transactions with compares and nested ops', async () => {
    await client.put('txn/k', 'v1');
    const ok = await client
      .txn()
      .if(Compare.value('txn/k', '=', 'v1'), Compare.version('txn/k', '>', 0n))
      .then(Op.put('txn/k', 'v2'), Op.get('txn/k'), Op.txn(client.txn().then(Op.put('txn/nested', 'n'))))
      .else(Op.delete('txn/k'))
      .commit();
    assert.equal(ok.succeeded, true);
    assert.equal(ok.responses[0]!.type, 'put');
    const range = ok.responses[1]!;
    assert.ok(range.type === 'range');
    assert.equal(range.result.kvs[0]!.value.toString(), 'v2');
    assert.equal(ok.responses[2]!.type, 'txn');
    assert.equal((await client.get('txn/nested'))?.value.toString(), 'n');

    const failed = await client
      .txn()
      .if(Compare.modRevision('txn/k', '<', 1n))
      .then(Op.delete('txn/k'))
      .else(Op.get('txn/', { prefix: true }))
      .commit();
    assert.equal(failed.succeeded, false);
    const read = failed.responses[0]!;
    assert.ok(read.type === 'range');
    assert.equal(read.result.kvs.length, 2);
  });

  it('refuses to be awaited as a promise', async () => {
    await assert.rejects(async () => {
      await (client.txn().if(Compare.value('x', '=', 'y')) as unknown as Promise<unknown>);
    }, /call \.commit\(\)/);
  });

  it('compacts and reports old revisions as compacted', async () => {
    const a = await client.put('compact/k', '1');
    const b = await client.put('compact/k', '2');
    await client.compact(b.header.revision);
    await assert.rejects(client.range('compact/k', { revision: a.header.revision }), (err: Error) => err.name === 'CompactedError');
    await assert.rejects(client.range('compact/k', { revision: b.header.revision + 1000n }), (err: Error) => err.name === 'FutureRevisionError');
  });

  it('fails a call at its deadline and on abort', async () => {
    await assert.rejects(client.get('x', { deadline: Date.now() - 1 }), DeadlineExceededError);
    const controller = new AbortController();
    const reason = new Error('stop now');
    controller.abort(reason);
    await assert.rejects(client.get('x', { signal: controller.signal }), (err) => err === reason);
    // A call the server holds (a Lock on a held name) ends at its deadline / on abort.
    const lease = await client.lease.grant(30);
    await client.raw.unary('Lock', 'Lock', { name: Buffer.from('held'), lease: lease.id.toString() });
    const other = await client.lease.grant(30);
    const started = Date.now();
    await assert.rejects(
      client.raw.unary('Lock', 'Lock', { name: Buffer.from('held'), lease: other.id.toString() }, { timeoutMs: 300 }),
      DeadlineExceededError,
    );
    assert.ok(Date.now() - started < 3000);
    const aborting = new AbortController();
    setTimeout(() => aborting.abort(new Error('gave up')), 200);
    await assert.rejects(client.raw.unary('Lock', 'Lock', { name: Buffer.from('held'), lease: other.id.toString() }, { signal: aborting.signal }), /gave up/);
  });
});
