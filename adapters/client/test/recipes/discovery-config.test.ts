import { expect } from 'chai';
import { ConfigMap, ServiceRegistry, type ConfigChange, type KeyValue } from '../../src/index.js';
import { CairnMemberFixture } from '../cairn-member-fixture.js';
import { freshPrefix, describeOnEachServer } from './recipe-test-kit.js';

/** Pulls values from an async iterator until `done` says so (or the test times out). */
async function until<T>(iterator: AsyncIterator<T>, done: (value: T) => boolean): Promise<T> {
  for (;;) {
    const next = await iterator.next();
    if (next.done === true) throw new Error('iteration ended');
    if (done(next.value)) return next.value;
  }
}

const ids = (set: Map<string, KeyValue>) => [...set.keys()].sort();

describeOnEachServer('recipes: ServiceRegistry and ConfigMap', (kit) => {
  it('ServiceRegistry: follow() tracks registrations, updates, deregistrations and lease expiry', async () => {
    const prefix = freshPrefix('services');
    const [a, b] = [await kit.session(), await kit.session(2)];
    const registry = new ServiceRegistry(kit.client, prefix);
    const regA = await registry.register('a', 'http://a', { session: a });
    expect(regA.key.toString()).to.equal(`${prefix}/a`);
    const follower = registry.follow()[Symbol.asyncIterator]();
    expect(ids(await until(follower, () => true))).to.deep.equal(['a']);
    await new ServiceRegistry(b, prefix).register('b1', 'http://b1');
    await new ServiceRegistry(b, prefix).register('b2', 'http://b2');
    expect(ids(await until(follower, (set) => set.size === 3))).to.deep.equal(['a', 'b1', 'b2']);
    await regA.update('http://a2');
    expect((await until(follower, (set) => set.get('a')?.value.toString() === 'http://a2')).size).to.equal(3);
    // Both of b's instances leave at one revision: one step, not two.
    await kit.newClient().lease.revoke(b.lease);
    expect(ids(await until(follower, () => true))).to.deep.equal(['a']);
    await regA.deregister();
    expect(ids(await until(follower, () => true))).to.deep.equal([]);
    await follower.return?.();
    expect(await registry.instances()).to.have.property('size', 0);
  });

  it('ServiceRegistry: an instance id held by another live lease is refused', async () => {
    const prefix = freshPrefix('taken');
    const [a, b] = [await kit.session(), await kit.session()];
    await new ServiceRegistry(a, prefix).register('x', '1');
    await new ServiceRegistry(a, prefix).register('x', '2'); // same lease: fine
    let refused: unknown;
    await new ServiceRegistry(b, prefix).register('x', '3').catch((err: unknown) => (refused = err));
    expect(refused).to.be.instanceOf(Error);
    expect((await kit.client.get(`${prefix}/x`))!.value.toString()).to.equal('2');
  });

  it('ConfigMap: ready, get, entries and changes() follow the prefix', async () => {
    const prefix = freshPrefix('config');
    await kit.client.put(`${prefix}/colour`, 'blue');
    const config = new ConfigMap(kit.client, prefix);
    await config.ready;
    expect(config.getString('colour')).to.equal('blue');
    const changes = config.changes()[Symbol.asyncIterator]();
    await kit.client.put(`${prefix}/size`, 'L');
    await kit.client.put(`${prefix}/colour`, 'red');
    await kit.client.delete(`${prefix}/size`);
    const seen: ConfigChange[] = [];
    for (let i = 0; i < 3; i++) seen.push((await changes.next()).value as ConfigChange);
    expect(seen.map((c) => [c.type, c.name, c.value?.toString(), c.previous?.toString()])).to.deep.equal([
      ['put', 'size', 'L', undefined],
      ['put', 'colour', 'red', 'blue'],
      ['delete', 'size', undefined, 'L'],
    ]);
    expect(seen[0]!.revision < seen[1]!.revision && seen[1]!.revision < seen[2]!.revision).to.equal(true);
    expect(config.getString('colour')).to.equal('red');
    expect([...config.entries()].map(([name, value]) => [name, value.toString()])).to.deep.equal([['colour', 'red']]);
    expect(config.revision).to.equal(seen[2]!.revision);
    config.close();
    expect((await changes.next()).done).to.equal(true);
  });

  // It restarts a durable Cairn member of its own, whatever the server of the block: once is enough.
  if (kit.target === 'cairn')
    it('follow() and ConfigMap re-read after their watch revision is compacted (member restarted meanwhile)', async function () {
      this.timeout(60_000);
      const durable = await CairnMemberFixture.start({ durable: true });
      try {
        const prefix = freshPrefix('compacted');
        const client = durable.client();
        const writer = durable.client();
        await writer.put(`${prefix}/a`, '1');
        await writer.put(`${prefix}/b`, '1');
        const follower = new ServiceRegistry(client, prefix).follow()[Symbol.asyncIterator]();
        expect(ids(await until(follower, () => true))).to.deep.equal(['a', 'b']);
        const config = new ConfigMap(client, prefix);
        await config.ready;
        const changes = config.changes()[Symbol.asyncIterator]();
        // While the member is away the watches cannot follow; the writes and the compaction happen
        // before they resume, so they resume from a compacted revision.
        await durable.stop();
        await durable.start();
        await writer.put(`${prefix}/a`, '2');
        await writer.delete(`${prefix}/b`);
        const last = await writer.put(`${prefix}/c`, '3');
        await writer.compact(last.header.revision);
        const seen = new Map<string, string | undefined>();
        while (seen.size < 3) {
          const change = (await changes.next()).value as ConfigChange;
          seen.set(change.name, change.value?.toString());
        }
        expect(Object.fromEntries(seen)).to.deep.equal({ a: '2', b: undefined, c: '3' });
        expect([...config.entries()].map(([n, v]) => `${n}=${v.toString()}`).sort()).to.deep.equal(['a=2', 'c=3']);
        const live = await until(follower, (set) => set.size === 2 && set.has('c'));
        expect(ids(live)).to.deep.equal(['a', 'c']);
        await follower.return?.();
        config.close();
      } finally {
        await durable.close();
      }
    });
});
