import { expect } from 'chai';
import { Container } from 'inversify';
import { RESPONSE_HEADERS, type ResponseHeaders } from '../../src/api/response-headers.js';
import { LEASE_LOOKUP } from '../../src/mvcc/lease-lookup.js';
import { MVCC_STORE_TEST_OPTIONS, MvccStore } from '../../src/mvcc/mvcc-store.js';
import { WATCH_LIMITS, WatchHub } from '../../src/mvcc/watch-hub.js';
import { WatchKeyRange } from '../../src/mvcc/watch-key-range.js';
import { BACKEND } from '../../src/ports/backend.js';
import { CLOCK } from '../../src/ports/clock.js';
import { DEFERRAL, type Deferral } from '../../src/ports/deferral.js';
import { MemoryBackend } from '../../src/memory/memory-backend.js';
import { VirtualClock } from '../../src/testkit/memory/virtual-clock.js';

const b = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const headers: ResponseHeaders = { header: (revision) => ({ clusterId: 7n, memberId: 9n, revision, raftTerm: 3 }) };

/** Counts deferrals and runs them on setImmediate. */
class CountingDeferral implements Deferral {
  count = 0;
  defer(run: () => void): void {
    this.count++;
    setImmediate(run);
  }
}

function container(backend = new MemoryBackend()): Container {
  const c = new Container();
  c.bind(BACKEND).toConstantValue(backend);
  c.bind(RESPONSE_HEADERS).toConstantValue(headers);
  c.bind(MvccStore).toSelf().inSingletonScope();
  c.bind(WatchHub).toSelf().inSingletonScope();
  return c;
}

describe('mvcc from a container', () => {
  it('builds the store from its tokens; load() reads what the backend holds', async () => {
    const backend = new MemoryBackend();
    const first = await MvccStore.open(backend, { header: headers.header });
    await first.put(1, { key: b('k'), value: b('v') });

    const store = container(backend).get(MvccStore);
    await store.load();
    expect(store.currentRevision).to.equal(2);
    const got = await store.range({ key: b('k') });
    expect(got.header).to.deep.equal({ clusterId: 7n, memberId: 9n, revision: 2, raftTerm: 3 });
    expect(Buffer.from(got.kvs[0]!.value).toString()).to.equal('v');
  });

  it('without LEASE_LOOKUP no lease exists; with it, the bound lookup decides', async () => {
    const alone = container().get(MvccStore);
    await alone.load();
    const refused = await alone.put(1, { key: b('k'), value: b('v'), lease: 5n });
    expect('error' in refused && refused.error.message).to.equal('etcdserver: requested lease not found');

    const c = container();
    c.bind(LEASE_LOOKUP).toConstantValue({ exists: (id: bigint) => id === 5n });
    const store = c.get(MvccStore);
    await store.load();
    expect('ok' in (await store.put(1, { key: b('k'), value: b('v'), lease: 5n }))).to.equal(true);
  });

  it('takes its test options from MVCC_STORE_TEST_OPTIONS', async () => {
    const c = container();
    c.bind(MVCC_STORE_TEST_OPTIONS).toConstantValue({ plantedCompactionBug: true });
    const store = c.get(MvccStore);
    await store.load();
    await store.put(1, { key: b('k'), value: b('v') });
    await store.compact(2, 2);
    // The planted bug drops the revision that a read at the compact revision still needs.
    expect((await store.range({ key: b('k') })).kvs).to.have.length(0);
  });

  it('builds the watch hub; a catch-up that finds nothing yields through the injected deferral', async () => {
    const c = container();
    const clock = new VirtualClock();
    const deferral = new CountingDeferral();
    c.bind(CLOCK).toConstantValue(clock);
    c.bind(DEFERRAL).toConstantValue(deferral);
    const store = c.get(MvccStore);
    await store.load();
    const hub = c.get(WatchHub);
    for (let i = 1; i <= 3; i++) await store.put(i, { key: b('a'), value: b(`${i}`) });

    const watcher = hub.watch({ range: WatchKeyRange.of(b('b'), undefined)!, startRevision: 2 });
    const next = watcher.next();
    await store.put(4, { key: b('b'), value: b('x') });
    const delivery = await next;
    expect(delivery?.kind === 'events' && delivery.events.map((e) => Buffer.from(e.kv.key).toString())).to.deep.equal(['b']);
    expect(deferral.count).to.be.greaterThan(0);
    hub.close();
  });

  it('takes watch limits from WATCH_LIMITS', async () => {
    const c = container();
    const clock = new VirtualClock();
    c.bind(CLOCK).toConstantValue(clock);
    c.bind(DEFERRAL).toConstantValue(new CountingDeferral());
    c.bind(WATCH_LIMITS).toConstantValue({ progressIntervalMs: 100 });
    await c.get(MvccStore).load();
    const hub = c.get(WatchHub);
    const watcher = hub.watch({ range: WatchKeyRange.of(b('k'), undefined)!, progressNotify: true });
    const next = watcher.next();
    clock.advance(100);
    expect(await next).to.deep.equal({ kind: 'progress', revision: 1 });
    hub.close();
  });
});
