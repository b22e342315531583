import { expect } from 'chai';
import { Barrier, DoubleBarrier, SessionLostError, TooManyClientsError } from '../../src/index.js';
import { freshPrefix, describeOnEachServer, rejectionOf, settlesWithin, sleep } from './recipe-test-kit.js';

describeOnEachServer('recipes: Barrier and DoubleBarrier', (kit) => {
  it('Barrier: wait returns at once when down, blocks while held, returns on release', async () => {
    const key = freshPrefix('barrier');
    const barrier = new Barrier(kit.client, key);
    await barrier.wait();
    expect(await barrier.hold()).to.equal(true);
    expect(await barrier.hold()).to.equal(false);
    const waiters = [barrier.wait(), new Barrier(kit.newClient(), key).wait()];
    expect(await settlesWithin(Promise.race(waiters), 200)).to.equal(false);
    await barrier.release();
    await Promise.all(waiters);
  });

  it('Barrier: a hold under the lease lifts when the holder session is lost; a waiter on a lost session fails', async () => {
    const key = freshPrefix('barrier-lease');
    const holder = await kit.session(2);
    expect(await new Barrier(holder, key).hold({ lease: true })).to.equal(true);
    const waiterSession = await kit.session();
    const waiting = new Barrier(kit.client, key).wait();
    const doomed = rejectionOf(new Barrier(waiterSession, key).wait());
    await sleep(100);
    await waiterSession.close();
    expect(await doomed).to.be.instanceOf(SessionLostError);
    expect(await settlesWithin(waiting, 100)).to.equal(false);
    await kit.client.lease.revoke(holder.lease);
    await waiting;
  });

  it('DoubleBarrier: enter waits for count participants, leave waits for all to leave', async () => {
    const prefix = freshPrefix('double');
    const sessions = await Promise.all([1, 2, 3].map(() => kit.session()));
    const barriers = sessions.map((s) => new DoubleBarrier(s, prefix, 3));
    const entering = [barriers[0]!.enter(), barriers[1]!.enter()];
    expect(await settlesWithin(Promise.race(entering), 200)).to.equal(false);
    await barriers[2]!.enter();
    await Promise.all(entering);
    const leaving = [barriers[0]!.leave(), barriers[1]!.leave()];
    expect(await settlesWithin(Promise.race(leaving), 200)).to.equal(false);
    await barriers[2]!.leave();
    await Promise.all(leaving);
    expect((await kit.client.range(`${prefix}/`, { prefix: true })).kvs).to.have.length(0);
    // The barrier can be used again.
    await Promise.all(barriers.map((b) => b.enter()));
    await Promise.all(barriers.map((b) => b.leave()));
  });

  it('DoubleBarrier: one too many is refused; a participant lost inside does not block leave', async () => {
    const prefix = freshPrefix('double-loss');
    const [a, b] = [await kit.session(), await kit.session(2)];
    const extra = await kit.session();
    const ba = new DoubleBarrier(a, prefix, 2);
    const bb = new DoubleBarrier(b, prefix, 2);
    await Promise.all([ba.enter(), bb.enter()]);
    expect(await rejectionOf(new DoubleBarrier(extra, prefix, 2).enter())).to.be.instanceOf(TooManyClientsError);
    const leaving = ba.leave();
    expect(await settlesWithin(leaving, 200)).to.equal(false);
    await kit.client.lease.revoke(b.lease);
    await leaving;
  });
});
