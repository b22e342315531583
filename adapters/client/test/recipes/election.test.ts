import { expect } from 'chai';
import { Election, NotLeaderError, SessionLostError, type KeyValue } from '../../src/index.js';
import { freshPrefix, describeOnEachServer, rejectionOf, settlesWithin, sleep } from './recipe-test-kit.js';

describeOnEachServer('recipes: Election', (kit) => {
  it("campaigns in clientv3's layout; the leader key's create revision is the term", async () => {
    const prefix = freshPrefix('layout');
    const session = await kit.session();
    const election = new Election(session, prefix);
    const leadership = await election.campaign('alpha');
    expect(leadership.key.toString()).to.equal(`${prefix}/${session.lease.toString(16)}`);
    const leader = await election.leader();
    expect(leader?.value.toString()).to.equal('alpha');
    expect(leader?.createRevision).to.equal(leadership.term);
    await election.resign();
    expect(await election.leader()).to.equal(undefined);
  });

  it('one leader at a time; the next candidate leads after resign, with a larger term', async () => {
    const prefix = freshPrefix('succession');
    const [a, b] = [await kit.session(), await kit.session()];
    const first = new Election(a, prefix);
    const second = new Election(b, prefix);
    const lead1 = await first.campaign('a');
    const waiting = second.campaign('b');
    expect(await settlesWithin(waiting, 300)).to.equal(false);
    expect((await second.leader())?.value.toString()).to.equal('a');
    await first.resign();
    const lead2 = await waiting;
    expect(lead2.term > lead1.term).to.equal(true);
    expect((await first.leader())?.value.toString()).to.equal('b');
  });

  it('proclaim changes the value only while leading; a deposed leader gets NotLeaderError', async () => {
    const prefix = freshPrefix('proclaim');
    const [a, b] = [await kit.session(), await kit.session()];
    const first = new Election(a, prefix);
    await first.campaign('v1');
    await first.proclaim('v2');
    expect((await first.leader())?.value.toString()).to.equal('v2');
    await kit.client.lease.revoke(a.lease);
    await new Election(b, prefix).campaign('b');
    expect(await rejectionOf(first.proclaim('v3'))).to.be.instanceOf(NotLeaderError);
    expect((await first.leader())?.value.toString()).to.equal('b');
  });

  it('observe yields the leader, its proclamations, and the next leader after the leader fails', async () => {
    const prefix = freshPrefix('observe');
    const a = await kit.session(2);
    const b = await kit.session();
    const observer = new Election(await kit.session(), prefix);
    const seen: string[] = [];
    const controller = new AbortController();
    const observing = (async () => {
      for await (const kv of observer.observe({ signal: controller.signal })) {
        seen.push(kv.value.toString());
        if (seen.length === 3) break;
      }
    })();
    await sleep(100);
    const first = new Election(a, prefix);
    await first.campaign('a1');
    const second = new Election(b, prefix).campaign('b1');
    await sleep(100);
    await first.proclaim('a2');
    await kit.newClient().lease.revoke(a.lease);
    await second;
    await observing;
    expect(seen).to.deep.equal(['a1', 'a2', 'b1']);
  });

  it('observe throws the abort reason when its signal aborts', async () => {
    const prefix = freshPrefix('observe-abort');
    const observer = new Election(await kit.session(), prefix);
    const controller = new AbortController();
    const got: KeyValue[] = [];
    const observing = rejectionOf(
      (async () => {
        for await (const kv of observer.observe({ signal: controller.signal })) got.push(kv);
      })(),
    );
    await sleep(100);
    controller.abort(new Error('stop observing'));
    expect(((await observing) as Error).message).to.equal('stop observing');
    expect(got).to.have.length(0);
  });

  it("a candidate whose session is lost while waiting fails with SessionLostError; leadership.signal aborts on the leader's loss", async () => {
    const prefix = freshPrefix('loss');
    const a = await kit.session(2);
    const b = await kit.session(2);
    const lead = await new Election(a, prefix).campaign('a');
    const waiting = rejectionOf(new Election(b, prefix).campaign('b'));
    await sleep(100);
    await b.close();
    expect(await waiting).to.be.instanceOf(SessionLostError);
    await kit.newClient().lease.revoke(a.lease);
    await new Promise<void>((resolve) => lead.signal.addEventListener('abort', () => resolve(), { once: true }));
    expect(lead.signal.reason).to.be.instanceOf(SessionLostError);
  });

  it("interoperates with the server's Election RPC: it reports our leader, and its Campaign waits behind ours", async () => {
    const prefix = freshPrefix('server-election');
    const [a, b] = [await kit.session(), await kit.session()];
    const ours = new Election(a, prefix);
    await ours.campaign('client-leader');
    const reported = await kit.client.raw.unary<{ kv: { value: Uint8Array } }>('Election', 'Leader', { name: Buffer.from(prefix) });
    expect(Buffer.from(reported.kv.value).toString()).to.equal('client-leader');
    const serverCampaign = kit.client.raw.unary<{ leader: { key: Uint8Array } }>('Election', 'Campaign', {
      name: Buffer.from(prefix),
      lease: b.lease.toString(),
      value: Buffer.from('server-leader'),
    });
    expect(await settlesWithin(serverCampaign, 300)).to.equal(false);
    await ours.resign();
    const won = await serverCampaign;
    expect(Buffer.from(won.leader.key).toString()).to.equal(`${prefix}/${b.lease.toString(16)}`);
    expect((await ours.leader())?.value.toString()).to.equal('server-leader');
  });
});
