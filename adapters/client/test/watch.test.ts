import { strict as assert } from 'node:assert';
import { CairnMemberFixture } from './cairn-member-fixture.js';
import { InterposedChannel } from './interposed-channel.js';
import { Client, CompactedError, Compare, Op, type Watch, type WatchEvent, type WireMessage } from '../src/index.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads events from `watch` in the background. */
function collect(watch: Watch): { events: WatchEvent[]; done: Promise<unknown>; until(n: number, timeoutMs?: number): Promise<void> } {
  const events: WatchEvent[] = [];
  const done = (async () => {
    for await (const event of watch) events.push(event);
  })().catch((err: unknown) => err);
  return {
    events,
    done,
    async until(n, timeoutMs = 10_000) {
      const start = Date.now();
      while (events.length < n) {
        if (Date.now() - start > timeoutMs) throw new Error(`only ${events.length} of ${n} events after ${timeoutMs} ms`);
        await sleep(10);
      }
    },
  };
}

const summary = (events: WatchEvent[]): string[] => events.map((e) => `${e.type} ${e.kv.key.toString()}=${e.kv.value.toString()}@${e.revision}`);

describe('watches', function () {
  let cairn: CairnMemberFixture;
  let client: Client;

  before(async () => {
    cairn = await CairnMemberFixture.start({ config: { 'max-request-bytes': 4096 } });
    client = cairn.client();
  });
  after(async () => cairn?.close());

  it('delivers puts and deletes of a prefix in order, with prevKv and several events per revision', async () => {
    const watch = client.watch('w1/', { prefix: true, prevKv: true });
    const startsAfter = await watch.ready;
    const seen = collect(watch);
    const a = await client.put('w1/a', '1');
    assert.equal(a.header.revision, startsAfter + 1n);
    await client.put('w1/a', '2');
    await client.put('w1other', 'not in the prefix');
    await client.txn().then(Op.put('w1/b', 'x'), Op.put('w1/c', 'y')).commit();
    await client.delete('w1/a');
    await seen.until(5);
    watch.close();
    await seen.done;
    assert.deepEqual(
      seen.events.map((e) => `${e.type} ${e.kv.key.toString()}`),
      ['put w1/a', 'put w1/a', 'put w1/b', 'put w1/c', 'delete w1/a'],
    );
    assert.equal(seen.events[1]!.prevKv?.value.toString(), '1');
    assert.equal(seen.events[2]!.revision, seen.events[3]!.revision);
    assert.equal(seen.events[4]!.prevKv?.value.toString(), '2');
  });

  it('replays history from a start revision and filters', async () => {
    const first = await client.put('w2/k', 'a');
    await client.delete('w2/k');
    await client.put('w2/k', 'b');
    const watch = client.watch('w2/k', { startRevision: first.header.revision, filters: ['nodelete'] });
    assert.equal(await watch.ready, first.header.revision - 1n);
    const seen = collect(watch);
    await seen.until(2);
    watch.close();
    assert.deepEqual(
      seen.events.map((e) => e.kv.value.toString()),
      ['a', 'b'],
    );
  });

  it('throws CompactedError with the compact revision for a compacted start', async () => {
    const old = await client.put('w3/k', '1');
    const now = await client.put('w3/k', '2');
    await client.compact(now.header.revision);
    const watch = client.watch('w3/k', { startRevision: old.header.revision });
    const seen = collect(watch);
    const err = await seen.done;
    assert.ok(err instanceof CompactedError, `got ${String(err)}`);
    assert.equal(err.compactRevision, now.header.revision);
    assert.equal(seen.events.length, 0);
  });

  it('reports progress on request', async () => {
    const progress: bigint[] = [];
    const watch = client.watch('w4/', { prefix: true, onProgress: (r) => progress.push(r) });
    await watch.ready;
    const put = await client.put('elsewhere', 'x');
    watch.requestProgress();
    const start = Date.now();
    while (progress.length === 0 && Date.now() - start < 5000) await sleep(10);
    watch.close();
    assert.ok(progress.length > 0, 'a progress notification arrived');
    assert.ok(progress[0]! >= put.header.revision);
  });

  it('joins fragments of a large revision', async () => {
    const value = 'v'.repeat(1000);
    await client.txn().then(Op.put('w5/a', value), Op.put('w5/b', value), Op.put('w5/c', value)).commit();
    const watch = client.watch('w5/', { prefix: true, prevKv: true, fragment: true });
    await watch.ready;
    const seen = collect(watch);
    const rewrite = await client.txn().then(Op.put('w5/a', value), Op.put('w5/b', value), Op.put('w5/c', value)).commit();
    await seen.until(3);
    watch.close();
    assert.deepEqual(
      seen.events.map((e) => `${e.kv.key.toString()}@${e.revision} prev=${e.prevKv?.value.length}`),
      ['a', 'b', 'c'].map((k) => `w5/${k}@${rewrite.header.revision} prev=1000`),
    );
  });

  it('ends with the abort reason when its signal aborts', async () => {
    const controller = new AbortController();
    const watch = client.watch('w6', { signal: controller.signal });
    await watch.ready;
    const seen = collect(watch);
    controller.abort(new Error('no longer interested'));
    assert.match(String(await seen.done), /no longer interested/);
  });

  it('resumes a broken stream without gaps and drops what a resumed stream redelivers', async () => {
    const channels: InterposedChannel[] = [];
    const watcher = new Client({
      endpoints: [cairn.endpoint],
      channel: (endpoint) => {
        const channel = new InterposedChannel(endpoint);
        channels.push(channel);
        return channel;
      },
    });
    try {
      const channel = () => channels[0]!;
      const watch = watcher.watch('w7/', { prefix: true });
      await watch.ready;
      const seen = collect(watch);
      for (let i = 0; i < 5; i++) await client.put(`w7/${i}`, `${i}`);
      await seen.until(5);
      // From now on a resumed watch asks for history from the very start: the server redelivers
      // events 0..4 (and whatever comes next), the client must drop the ones it delivered.
      const firstRevision = seen.events[0]!.revision;
      channel().rewrite = (m: WireMessage) => {
        const request = m as { create_request?: { start_revision: string } };
        if (request.create_request !== undefined) request.create_request.start_revision = firstRevision.toString();
        return m;
      };
      channel().duplexes[channel().duplexes.length - 1]!.breakWith();
      for (let i = 5; i < 10; i++) await client.put(`w7/${i}`, `${i}`);
      await seen.until(10);
      channel().duplexes[channel().duplexes.length - 1]!.breakWith();
      for (let i = 10; i < 15; i++) await client.put(`w7/${i}`, `${i}`);
      await seen.until(15);
      await sleep(200);
      watch.close();
      assert.ok(channel().duplexes.length >= 3, 'the watch was re-created twice');
      assert.deepEqual(
        seen.events.map((e) => e.kv.key.toString()),
        Array.from({ length: 15 }, (_, i) => `w7/${i}`),
      );
      const revisions = seen.events.map((e) => e.revision);
      assert.deepEqual(
        revisions,
        [...revisions].sort((x, y) => (x < y ? -1 : 1)),
      );
    } finally {
      await watcher.close();
    }
  });

  it('keeps a txn that compares and writes on one revision together', async () => {
    const watch = client.watch('w8/', { prefix: true });
    await watch.ready;
    const seen = collect(watch);
    await client
      .txn()
      .if(Compare.version('w8/a', '=', 0n))
      .then(Op.put('w8/a', '1'), Op.put('w8/b', '1'))
      .commit();
    await seen.until(2);
    watch.close();
    assert.equal(seen.events[0]!.revision, seen.events[1]!.revision);
  });
});

describe('a watch across a member restart', function () {
  it('resumes after the member restarts with every event exactly once', async () => {
    const cairn = await CairnMemberFixture.start({ durable: true });
    try {
      const writer = cairn.client();
      const watcher = cairn.client();
      const watch = watcher.watch('r/', { prefix: true });
      await watch.ready;
      const seen = collect(watch);
      for (let i = 0; i < 10; i++) await writer.put(`r/${i}`, `${i}`);
      await seen.until(10);
      await cairn.stop();
      await sleep(300);
      await cairn.start();
      // Written at once, likely before the watch is back: it must still see them.
      for (let i = 10; i < 20; i++) await writer.put(`r/${i}`, `${i}`, { timeoutMs: 10_000 });
      await seen.until(20, 20_000);
      await sleep(300);
      watch.close();
      assert.equal(await seen.done, undefined);
      assert.deepEqual(
        seen.events.map((e) => e.kv.key.toString()),
        Array.from({ length: 20 }, (_, i) => `r/${i}`),
      );
      const history = await writer.range('r/', { prefix: true });
      assert.deepEqual(
        summary(seen.events),
        history.kvs
          .map((kv) => `put ${kv.key.toString()}=${kv.value.toString()}@${kv.modRevision}`)
          .sort((a, b) => Number(a.split('@')[1]) - Number(b.split('@')[1])),
      );
    } finally {
      await cairn.close();
    }
  });
});
