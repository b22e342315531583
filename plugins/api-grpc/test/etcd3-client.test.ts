import { expect } from 'chai';
import { Etcd3, GRPCInvalidArgumentError } from 'etcd3';
import { startHarness, type Harness } from './harness.js';

describe('gRPC frontend: the etcd3 npm client', () => {
  let harness: Harness;
  let client: Etcd3;

  beforeEach(async () => {
    harness = await startHarness();
    client = new Etcd3({ hosts: harness.address });
  });
  afterEach(async () => {
    client.close();
    await harness.close();
  });

  it('put, get, getAll, if/txn and delete work', async () => {
    await client.put('app/a').value('1');
    await client.put('app/b').value('2');
    expect(await client.get('app/a').string()).to.equal('1');
    expect(await client.getAll().prefix('app/').strings()).to.deep.equal({ 'app/a': '1', 'app/b': '2' });
    const swapped = await client.if('app/a', 'Value', '==', '1').then(client.put('app/a').value('one')).else(client.get('app/a')).commit();
    expect(swapped.succeeded).to.equal(true);
    expect(await client.get('app/a').string()).to.equal('one');
    const refused = await client.if('app/a', 'Version', '>', 5).then(client.put('app/a').value('no')).commit();
    expect(refused.succeeded).to.equal(false);
    expect(Number((await client.delete().prefix('app/')).deleted)).to.equal(2);
    expect(await client.get('app/a').string()).to.equal(null);
  });

  it('sees etcd errors as their gRPC kind with etcd message', async () => {
    let caught: unknown;
    try {
      await client.put('').value('x');
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(GRPCInvalidArgumentError);
    expect((caught as Error).message).to.contain('etcdserver: key is not provided');
  });
});
