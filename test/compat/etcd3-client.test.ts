import { expect } from 'chai';
import type { Etcd3 } from 'etcd3';
import { cairnProcessFixture } from './cairn-fixture.js';

describe('the etcd3 npm client against a cairn process', function () {
  this.timeout(60_000);
  const cairn = cairnProcessFixture('etcd3');
  let client: Etcd3;
  before(() => {
    client = cairn.etcd3();
  });

  it('put, get, getAll, delete', async () => {
    await client.put('app/a').value('1');
    await client.put('app/b').value('2');
    await client.put('other').value('3');
    expect(await client.get('app/a').string()).to.equal('1');
    expect(await client.get('app/missing').string()).to.equal(null);
    expect(await client.getAll().prefix('app/').strings()).to.deep.equal({ 'app/a': '1', 'app/b': '2' });
    expect(await client.getAll().prefix('app/').keys()).to.deep.equal(['app/a', 'app/b']);
    expect(await client.getAll().prefix('app/').count()).to.equal(2);
    expect(await client.getAll().sort('Key', 'Descend').limit(1).keys()).to.deep.equal(['other']);
    const deleted = await client.delete().prefix('app/').getPrevious();
    expect(deleted.map((kv) => kv.key.toString()).sort()).to.deep.equal(['app/a', 'app/b']);
    expect(await client.getAll().prefix('app/').count()).to.equal(0);
  });

  it('if().then().else().commit() compares and swaps', async () => {
    await client.put('lock').value('free');
    const taken = await client.if('lock', 'Value', '==', 'free').then(client.put('lock').value('mine')).else(client.get('lock')).commit();
    expect(taken.succeeded).to.equal(true);
    const again = await client.if('lock', 'Value', '==', 'free').then(client.put('lock').value('theirs')).else(client.get('lock')).commit();
    expect(again.succeeded).to.equal(false);
    const range = again.responses[0]!.response_range!;
    expect(range.kvs[0]!.value.toString()).to.equal('mine');
    expect(await client.get('lock').string()).to.equal('mine');
    const versioned = await client.if('lock', 'Version', '>', 1).and('lock', 'Create', '>', 0).then(client.delete().key('lock')).commit();
    expect(versioned.succeeded).to.equal(true);
    expect(await client.get('lock').string()).to.equal(null);
  });

  it('historical reads with revision()', async () => {
    const first = await client.put('history').value('v1');
    await client.put('history').value('v2');
    expect(await client.get('history').revision(first.header.revision).string()).to.equal('v1');
    expect(await client.get('history').string()).to.equal('v2');
  });
});
