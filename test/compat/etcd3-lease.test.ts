import { expect } from 'chai';
import type { Etcd3, Lease } from 'etcd3';
import { cairnProcessFixture } from './cairn-fixture.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("the etcd3 npm client's leases against a cairn process", function () {
  this.timeout(60_000);
  const cairn = cairnProcessFixture('etcd3-lease');
  let client: Etcd3;
  before(() => {
    client = cairn.etcd3();
  });

  it('client.lease(ttl): grant, lease.put, keep-alives over the stream keep the key past its TTL, revoke() deletes it', async () => {
    const lease: Lease = client.lease(2);
    const succeeded: string[] = [];
    lease.on('keepaliveSucceeded', (res) => succeeded.push(String(res.TTL)));
    let lost: Error | undefined;
    lease.on('lost', (err) => {
      lost = err;
    });
    const id = await lease.grant();
    expect(BigInt(id) > 0n).to.equal(true);
    await lease.put('etcd3/leased').value('here');
    await lease.put('etcd3/other').value('too');
    // Two and a half TTLs: the client renews every TTL/3 over its LeaseKeepAlive stream.
    await sleep(5_000);
    expect(lost).to.equal(undefined);
    expect(succeeded.length).to.be.greaterThan(3);
    expect(new Set(succeeded)).to.deep.equal(new Set(['2']));
    expect(await client.get('etcd3/leased').string()).to.equal('here');
    const once = await lease.keepaliveOnce();
    expect([once.ID, once.TTL]).to.deep.equal([id, '2']);
    const kv = (await client.get('etcd3/leased').exec()).kvs[0]!;
    expect(kv.lease).to.equal(id);
    await lease.revoke();
    expect(lease.revoked()).to.equal(true);
    expect(await client.getAll().prefix('etcd3/').count()).to.equal(0);
  });

  it('a lease released (no more keep-alives) expires after its TTL, and its keys go', async () => {
    const lease = client.lease(1);
    await lease.grant();
    await lease.put('etcd3/short').value('x');
    lease.release();
    const released = Date.now();
    while ((await client.get('etcd3/short').string()) !== null && Date.now() - released < 8_000) await sleep(100);
    expect(await client.get('etcd3/short').string()).to.equal(null);
    expect(Date.now() - released).to.be.greaterThan(300);
  });

  it('a lease revoked by someone else is reported lost by the keeping client', async () => {
    const lease = client.lease(3);
    const id = await lease.grant();
    const lost = new Promise<Error>((resolve) => lease.on('lost', resolve));
    // Revoked through the raw Lease client, as an operator would with etcdctl.
    await client.leaseClient.leaseRevoke({ ID: id });
    const err = await Promise.race([lost, sleep(5_000).then(() => undefined)]);
    expect(err, 'lost fired').to.not.equal(undefined);
    expect(err!.message).to.match(/lease|not found|revoked|expired/i);
  });
});
