import { expect } from 'chai';
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import { etcdctl } from './etcdctl.js';
import { cairnProcessFixture } from './cairn-fixture.js';

/** Every event a watcher emits, as "put key=value" / "delete key", with the previous value when given. */
function record(w: Watcher): string[] {
  const seen: string[] = [];
  const show = (kv: IKeyValue, prev?: IKeyValue | null): string =>
    `${kv.key.toString()}=${kv.value.toString()}${prev == null ? '' : ` (was ${prev.value.toString()})`}`;
  w.on('put', (kv, prev) => seen.push(`put ${show(kv, prev)}`));
  w.on('delete', (kv, prev) => seen.push(`delete ${kv.key.toString()}${prev == null ? '' : ` (was ${prev.value.toString()})`}`));
  return seen;
}

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("the etcd3 npm client's watch builder against a cairn process", function () {
  this.timeout(60_000);
  const cairn = cairnProcessFixture('etcd3-watch');
  let client: Etcd3;
  before(() => {
    client = cairn.etcd3();
  });

  it('watch().key().create() sees puts and deletes of its key only, and stops after cancel()', async () => {
    const w = await client.watch().key('w/a').create();
    const seen = record(w);
    await client.put('w/a').value('1');
    await client.put('w/b').value('x');
    await client.put('w/a').value('2');
    await client.delete().key('w/a');
    await until(() => seen.length === 3, 'three events');
    expect(seen).to.deep.equal(['put w/a=1', 'put w/a=2', 'delete w/a']);
    await w.cancel();
    await client.put('w/a').value('after cancel');
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).to.have.length(3);
  });

  it('prefix(), withPreviousKV(), startRevision() and only() on one connection, each watcher its own events', async () => {
    const start = Number((await client.put('p/x').value('0').exec()).header.revision);
    await client.put('p/x').value('1');
    await client.put('q/x').value('1');
    await client.delete().key('p/x');
    // Listeners go on before the watch is created: history arrives right after the created response.
    const history = client.watch().prefix('p/').withPreviousKV().startRevision(String(start)).watcher();
    // only('put') sends NODELETE (this client's ignore() is an alias of only()).
    const noDeletes = client.watch().prefix('p/').only('put').startRevision(String(start)).watcher();
    const live = client.watch().prefix('q/').watcher();
    const seenHistory = record(history);
    const seenNoDeletes = record(noDeletes);
    const seenLive = record(live);
    await Promise.all([history, noDeletes, live].map((w) => new Promise((resolve) => w.once('connected', resolve))));
    await client.put('q/y').value('2');
    await until(
      () => seenHistory.length === 3 && seenNoDeletes.length === 2 && seenLive.length === 1,
      `every watcher's events (${JSON.stringify([seenHistory, seenNoDeletes, seenLive])})`,
    );
    expect(seenHistory).to.deep.equal(['put p/x=0', 'put p/x=1 (was 0)', 'delete p/x (was 1)']);
    expect(seenNoDeletes).to.deep.equal(['put p/x=0', 'put p/x=1']);
    expect(seenLive).to.deep.equal(['put q/y=2']);
    await Promise.all([history.cancel(), noDeletes.cancel(), live.cancel()]);
  });

  it('a watcher from a compacted revision gets an error, not silence', async () => {
    const old = Number((await client.put('c/k').value('0').exec()).header.revision);
    await client.put('c/k').value('1');
    const now = Number((await client.put('c/k').value('2').exec()).header.revision);
    const compacted = await etcdctl(cairn.server.endpoint, ['compaction', String(now)]);
    expect(compacted.code, compacted.stderr).to.equal(0);
    const w = client.watch().key('c/k').startRevision(String(old)).watcher();
    const errors: Error[] = [];
    w.on('error', (err) => errors.push(err));
    await until(() => errors.length > 0, 'the compaction error');
    // etcd 3.4 cancels it with compact_revision set and no cancel_reason, which this client reports so.
    expect(errors[0]!.message).to.equal('Watcher canceled: ');
    // The server already ended it (a cancel now would wait for an answer etcd does not send).
  });
});
