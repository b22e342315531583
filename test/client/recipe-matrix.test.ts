import { expect } from 'chai';
import {
  Barrier,
  Client,
  CompactedError,
  Compare,
  ConfigMap,
  DoubleBarrier,
  Election,
  Mutex,
  Op,
  PriorityQueue,
  Queue,
  RwMutex,
  Semaphore,
  ServiceRegistry,
  SessionLostError,
  stm,
  type KeyValue,
  type Session,
  type WatchEvent,
} from '@cairn/client';
import { startTarget, targetMissing, TARGET_KINDS, type Target } from './targets.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Whether `p` settles within `ms` (without consuming its value). */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  void p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await sleep(ms);
  return settled;
}

/** Collects `count` items of an async iterable (or fails after `ms`). */
async function take<T>(iterable: AsyncIterable<T>, count: number, ms = 10_000): Promise<T[]> {
  const items: T[] = [];
  const iterator = iterable[Symbol.asyncIterator]();
  const deadline = Date.now() + ms;
  while (items.length < count) {
    const next = await Promise.race([iterator.next(), sleep(Math.max(0, deadline - Date.now())).then(() => 'timeout' as const)]);
    if (next === 'timeout') throw new Error(`only ${items.length} of ${count} items within ${ms} ms`);
    if (next.done === true) break;
    items.push(next.value);
  }
  await iterator.return?.();
  return items;
}

const text = (kv: KeyValue | undefined): string | undefined => kv?.value.toString();

/**
 * Every recipe and the KV/txn/watch/lease basics of @cairn/client against three real servers: one
 * Cairn member, a 3-member Cairn cluster (the client given all three endpoints) and one real etcd
 * 3.4 — the same assertions for each.
 */
for (const kind of TARGET_KINDS) {
  describe(`@cairn/client against ${kind}`, function () {
    this.timeout(60_000);
    let target: Target | undefined;
    let client: Client;
    const sessions: Session[] = [];
    const session = async (ttl = 10): Promise<Session> => {
      const s = await client.session({ ttl });
      sessions.push(s);
      return s;
    };

    before(async function () {
      const missing = targetMissing(kind);
      if (missing !== undefined) {
        console.log(`      skipped: ${missing}`);
        this.skip();
      }
      target = await startTarget(kind);
      client = new Client({ endpoints: target.endpoints });
    });

    after(async () => {
      for (const s of sessions) await s.close().catch(() => undefined);
      await client?.close();
      await target?.stop();
    });

    it('KV: put, get, range by prefix with sort and limit, iterate, delete; revisions as exact bigints', async () => {
      const first = await client.put('kv/a', 'one');
      await client.put('kv/b', Buffer.from([0, 255, 1]));
      const third = await client.put('kv/c', 'three', { prevKv: true });
      expect(typeof first.header.revision).to.equal('bigint');
      expect(third.header.revision - first.header.revision).to.equal(2n);
      const a = await client.get('kv/a');
      expect(text(a)).to.equal('one');
      expect(a!.createRevision).to.equal(first.header.revision);
      expect(a!.version).to.equal(1n);
      expect((await client.get('kv/b'))!.value).to.deep.equal(Buffer.from([0, 255, 1]));
      const page = await client.range('kv/', { prefix: true, limit: 2, sort: { target: 'key', order: 'descend' } });
      expect(page.kvs.map((kv) => kv.key.toString())).to.deep.equal(['kv/c', 'kv/b']);
      expect(page.more).to.equal(true);
      expect(page.count).to.equal(3n);
      const iterated: string[] = [];
      for await (const kv of client.iterate('kv/', { prefix: true, pageSize: 1 })) iterated.push(kv.key.toString());
      expect(iterated).to.deep.equal(['kv/a', 'kv/b', 'kv/c']);
      const old = await client.range('kv/a', { revision: first.header.revision });
      expect(text(old.kvs[0])).to.equal('one');
      // One key means that key alone, never the keys after it (etcd reads a present empty range_end as "to the end").
      expect(await client.get('kv/0'), 'a missing key answered with a later one').to.equal(undefined);
      expect((await client.range('kv/0')).kvs).to.deep.equal([]);
      expect((await client.delete('kv/a')).deleted).to.equal(1n);
      expect(await client.get('kv/a')).to.equal(undefined);
      const deleted = await client.delete('kv/', { prefix: true, prevKv: true });
      expect(deleted.deleted).to.equal(2n);
      expect(deleted.prevKvs.map((kv) => kv.key.toString()).sort()).to.deep.equal(['kv/b', 'kv/c']);
      expect((await client.range('kv/', { prefix: true })).count).to.equal(0n);
    });

    it('txn: compares on value, version, create and mod revision choose the branch; nested ops answer in order', async () => {
      const put = await client.put('txn/k', 'v1');
      const won = await client
        .txn()
        .if(Compare.value('txn/k', '=', 'v1'), Compare.version('txn/k', '=', 1n), Compare.modRevision('txn/k', '=', put.header.revision))
        .then(Op.put('txn/k', 'v2'), Op.get('txn/k'))
        .else(Op.delete('txn/k'))
        .commit();
      expect(won.succeeded).to.equal(true);
      expect(won.responses.map((r) => r.type)).to.deep.equal(['put', 'range']);
      const lost = await client
        .txn()
        .if(Compare.createRevision('txn/k', '>', put.header.revision))
        .then(Op.delete('txn/k'))
        .else(Op.get('txn/k'))
        .commit();
      expect(lost.succeeded).to.equal(false);
      const range = lost.responses[0]!;
      expect(range.type === 'range' ? text(range.result.kvs[0]) : undefined).to.equal('v2');
    });

    it('watch: ordered events with prevKv from a start revision; a compacted start throws CompactedError with compactRevision', async () => {
      const start = (await client.put('w/x', '1')).header.revision;
      await client.put('w/x', '2');
      await client.delete('w/x');
      const events = await take(client.watch('w/', { prefix: true, startRevision: start, prevKv: true }), 3);
      expect(events.map((e: WatchEvent) => `${e.type} ${e.kv.key.toString()} ${e.revision - start}`)).to.deep.equal(['put w/x 0', 'put w/x 1', 'delete w/x 2']);
      expect(text(events[1]!.prevKv)).to.equal('1');
      const live = client.watch('w/live');
      await live.ready;
      const put = await client.put('w/live', 'now');
      const [seen] = await take(live, 1);
      expect(seen!.revision).to.equal(put.header.revision);

      const compactAt = (await client.put('w/y', 'y')).header.revision;
      await client.compact(compactAt);
      let failure: unknown;
      try {
        await take(client.watch('w/', { prefix: true, startRevision: start }), 1);
      } catch (err) {
        failure = err;
      }
      expect(failure).to.be.instanceOf(CompactedError);
      expect((failure as CompactedError).compactRevision).to.equal(compactAt);
    });

    it('lease: grant, keys under it, timeToLive, keep-alive state alive, revoke deletes its keys and the keeper reports lost', async () => {
      const lease = await client.lease.grant(5);
      await client.put('lease/k', 'v', { lease: lease.id });
      const ttl = await client.lease.timeToLive(lease.id, { keys: true });
      expect(ttl.grantedTtl).to.equal(5);
      expect(ttl.keys.map((k) => k.toString())).to.deep.equal(['lease/k']);
      expect(await client.lease.leases()).to.include(lease.id);
      const keeper = client.lease.keepAlive(lease.id);
      await sleep(200);
      expect(keeper.state.kind).to.equal('alive');
      await client.lease.revoke(lease.id);
      expect(await client.get('lease/k')).to.equal(undefined);
      const lost = await Promise.race([keeper.lost, sleep(10_000).then(() => undefined)]);
      expect(lost?.kind).to.equal('lost');
      keeper.close();
    });

    it('Mutex: excludes a second session until unlock; fencing tokens grow; withLock releases', async () => {
      const [s1, s2] = [await session(), await session()];
      const first = await new Mutex(s1, 'mx').lock();
      const second = new Mutex(s2, 'mx').lock();
      expect(await settlesWithin(second, 300), 'the second session got a held lock').to.equal(false);
      await first.unlock();
      const next = await second;
      expect(next.fencingToken > first.fencingToken).to.equal(true);
      expect(next.key.toString()).to.equal(`mx/${s2.lease.toString(16)}`);
      await next.unlock();
      const value = await new Mutex(s1, 'mx').withLock(async (signal, handle) => {
        expect(signal.aborted).to.equal(false);
        return handle.fencingToken;
      });
      expect(value > next.fencingToken).to.equal(true);
      expect(await new Mutex(s2, 'mx').tryLock().then((h) => h?.unlock().then(() => true))).to.equal(true);
    });

    it('RwMutex: readers share, a writer waits for them and excludes readers', async () => {
      const [s1, s2, s3] = [await session(), await session(), await session()];
      const r1 = await new RwMutex(s1, 'rw').readLock();
      const r2 = await new RwMutex(s2, 'rw').readLock();
      const writer = new RwMutex(s3, 'rw').writeLock();
      expect(await settlesWithin(writer, 300)).to.equal(false);
      await r1.unlock();
      await r2.unlock();
      const w = await writer;
      expect(await new RwMutex(s1, 'rw').tryReadLock()).to.equal(undefined);
      await w.unlock();
    });

    it('Semaphore: at most `permits` holders; a waiter gets a permit when one is released', async () => {
      const [s1, s2, s3] = [await session(), await session(), await session()];
      const p1 = await new Semaphore(s1, 'sem', 2).acquire();
      const p2 = await new Semaphore(s2, 'sem', 2).acquire();
      expect(await new Semaphore(s3, 'sem', 2).count()).to.equal(2n);
      const third = new Semaphore(s3, 'sem', 2).acquire();
      expect(await settlesWithin(third, 300)).to.equal(false);
      await p1.release();
      const p3 = await third;
      expect(p3.fencingToken > p2.fencingToken).to.equal(true);
      await p2.release();
      await p3.release();
    });

    it('Election: one leader, observe follows proclaim and the next leader after resign', async () => {
      const [s1, s2] = [await session(), await session()];
      const one = new Election(s1, 'el');
      const two = new Election(s2, 'el');
      await one.campaign('one');
      const second = two.campaign('two');
      expect(await settlesWithin(second, 300)).to.equal(false);
      const observed = take(one.observe(), 3);
      await sleep(200);
      await one.proclaim('one-again');
      await sleep(200);
      await one.resign();
      await second;
      expect((await observed).map((kv) => kv.value.toString())).to.deep.equal(['one', 'one-again', 'two']);
      expect(text(await two.leader())).to.equal('two');
      await two.resign();
    });

    it('Queue: FIFO; dequeue waits for an item; PriorityQueue: lowest priority first, FIFO within one', async () => {
      const queue = new Queue(client, 'q');
      await queue.enqueue('a');
      await queue.enqueue('b');
      expect(await queue.size()).to.equal(2n);
      expect(text(await queue.dequeue())).to.equal('a');
      expect(text(await queue.dequeue())).to.equal('b');
      expect(await queue.poll()).to.equal(undefined);
      const waiting = queue.dequeue();
      expect(await settlesWithin(waiting, 200)).to.equal(false);
      await queue.enqueue('c');
      expect(text(await waiting)).to.equal('c');

      const pq = new PriorityQueue(client, 'pq');
      await pq.enqueue('low-1', 5);
      await pq.enqueue('high', 1);
      await pq.enqueue('low-2', 5);
      const order = [await pq.dequeue(), await pq.dequeue(), await pq.dequeue()].map(text);
      expect(order).to.deep.equal(['high', 'low-1', 'low-2']);
    });

    it('Barrier: wait blocks while held and returns once released; DoubleBarrier: enter waits for the count, leave for everyone', async () => {
      const barrier = new Barrier(client, 'bar');
      expect(await barrier.hold()).to.equal(true);
      expect(await barrier.hold(), 'held twice').to.equal(false);
      const waiting = new Barrier(client, 'bar').wait();
      expect(await settlesWithin(waiting, 300)).to.equal(false);
      await barrier.release();
      await waiting;
      await new Barrier(client, 'bar').wait();

      const [s1, s2] = [await session(), await session()];
      const d1 = new DoubleBarrier(s1, 'dbar', 2);
      const d2 = new DoubleBarrier(s2, 'dbar', 2);
      const entering = d1.enter();
      expect(await settlesWithin(entering, 300), 'entered alone').to.equal(false);
      await Promise.all([entering, d2.enter()]);
      const leaving = d1.leave();
      expect(await settlesWithin(leaving, 300), 'left before the other').to.equal(false);
      await Promise.all([leaving, d2.leave()]);
    });

    for (const isolation of ['serializable-snapshot', 'serializable', 'repeatable-read'] as const) {
      it(`STM (${isolation}): concurrent increments of two keys never lose an update and keep their sum`, async () => {
        await client.put(`stm/${isolation}/a`, '0');
        await client.put(`stm/${isolation}/b`, '100');
        const transfer = (): Promise<unknown> =>
          stm(
            client,
            async (tx) => {
              const a = Number(await tx.get(`stm/${isolation}/a`));
              const b = Number(await tx.get(`stm/${isolation}/b`));
              tx.put(`stm/${isolation}/a`, String(a + 1));
              tx.put(`stm/${isolation}/b`, String(b - 1));
            },
            { isolation },
          );
        await Promise.all(Array.from({ length: 8 }, transfer));
        expect([text(await client.get(`stm/${isolation}/a`)), text(await client.get(`stm/${isolation}/b`))]).to.deep.equal(['8', '92']);
      });
    }

    it('ServiceRegistry: follow yields the live set; an instance leaves on deregister and when its lease is revoked', async () => {
      const [s1, s2] = [await session(), await session()];
      const sets: string[][] = [];
      const follower = new ServiceRegistry(client, 'svc');
      const following = (async () => {
        for await (const live of follower.follow()) {
          sets.push([...live.keys()].sort());
          if (sets.length === 5) break;
        }
      })();
      for (let i = 0; i < 100 && sets.length === 0; i++) await sleep(20);
      const a = await new ServiceRegistry(s1, 'svc').register('a', 'http://a');
      await sleep(100);
      await new ServiceRegistry(s2, 'svc').register('b', 'http://b');
      await sleep(100);
      await a.update('http://a2');
      await sleep(100);
      await client.lease.revoke(s2.lease);
      await following;
      expect(sets).to.deep.equal([[], ['a'], ['a', 'b'], ['a', 'b'], ['a']]);
      expect((await follower.instances()).get('a')!.value.toString()).to.equal('http://a2');
      await a.deregister();
      expect((await follower.instances()).size).to.equal(0);
    });

    it('ConfigMap: reads the prefix, then follows puts and deletes in revision order', async () => {
      await client.put('cfg/colour', 'blue');
      await client.put('cfg/size', '3');
      const config = new ConfigMap(client, 'cfg');
      try {
        await config.ready;
        expect(Object.fromEntries([...config.entries()].map(([k, v]) => [k, v.toString()]))).to.deep.equal({ colour: 'blue', size: '3' });
        const changes = config.changes();
        await client.put('cfg/colour', 'green');
        const del = await client.delete('cfg/size');
        const seen = await take(changes, 2);
        expect(seen.map((c) => `${c.type} ${c.name} ${c.value?.toString() ?? '-'} ${c.previous?.toString() ?? '-'}`)).to.deep.equal([
          'put colour green blue',
          'delete size - 3',
        ]);
        expect(config.revision).to.equal(del.header.revision);
        expect(config.getString('colour')).to.equal('green');
        expect(config.get('size')).to.equal(undefined);
      } finally {
        config.close();
      }
    });

    it('a session lost (its lease revoked) aborts a holder’s signal and fails a waiter with SessionLostError', async () => {
      const [holder, waiter] = [await session(), await session()];
      const held = await new Mutex(holder, 'lost').lock();
      const failure = new Mutex(waiter, 'lost').lock().then(
        () => undefined,
        (err: unknown) => err,
      );
      await sleep(200);
      await client.lease.revoke(waiter.lease);
      expect(await failure).to.be.instanceOf(SessionLostError);
      await client.lease.revoke(holder.lease);
      for (let i = 0; i < 100 && !held.signal.aborted; i++) await sleep(50);
      expect(held.signal.aborted).to.equal(true);
    });
  });
}
