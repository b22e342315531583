import { expect } from 'chai';
import { ConfigError } from '@cairn/core';
import { freeLoopbackPort, rejection, TemporaryDirectories } from '@cairn/core/testkit';
import { Client, Election, EtcdError, Mutex, type WatchEvent } from '@cairn/client';
import { startEmbedded, type EmbeddedCairn } from '../src/index.js';

/** The first `count` events of a watch, as the client's iterator yields them. */
async function take(events: AsyncIterable<WatchEvent>, count: number): Promise<WatchEvent[]> {
  const seen: WatchEvent[] = [];
  for await (const event of events) {
    seen.push(event);
    if (seen.length === count) break;
  }
  return seen;
}

describe('startEmbedded: a member and a @cairn/client Client bound to it in-process', function () {
  this.timeout(30_000);
  const dirs = new TemporaryDirectories('cairn-embed');
  let embedded: EmbeddedCairn | undefined;

  afterEach(async () => {
    await embedded?.close();
    embedded = undefined;
  });
  after(() => dirs.removeAll());

  it('puts and gets through the client', async () => {
    embedded = await startEmbedded({ 'name': 'client-kv', 'data-dir': await dirs.make('kv'), 'log-level': 'error' });
    const { client } = embedded;
    const put = await client.put('greeting', 'hello');
    const got = await client.get('greeting');
    expect(got?.value.toString()).to.equal('hello');
    expect(got?.modRevision).to.equal(put.header.revision);
    expect(typeof got?.modRevision).to.equal('bigint');
    const txn = await client.txn().then().commit();
    expect(txn.succeeded).to.equal(true);
  });

  it('watches a prefix: every event once, in revision order', async () => {
    embedded = await startEmbedded({ 'name': 'client-watch', 'data-dir': await dirs.make('watch'), 'log-level': 'error' });
    const { client } = embedded;
    const watch = client.watch('jobs/', { prefix: true, prevKv: true });
    await watch.ready;
    const events = take(watch, 3);
    await client.put('jobs/1', 'queued');
    await client.put('jobs/1', 'running');
    await client.delete('jobs/1');
    const seen = await events;
    expect(seen.map((e) => `${e.type} ${e.kv.key.toString()} ${e.kv.value.toString()} ${e.prevKv?.value.toString() ?? '-'}`)).to.deep.equal([
      'put jobs/1 queued -',
      'put jobs/1 running queued',
      'delete jobs/1  running',
    ]);
    expect(seen[0]!.revision < seen[1]!.revision && seen[1]!.revision < seen[2]!.revision).to.equal(true);
    watch.close();
  });

  it('grants a lease whose keys go with it, and keeps a session alive past its TTL', async () => {
    embedded = await startEmbedded({ 'name': 'client-lease', 'data-dir': await dirs.make('lease'), 'log-level': 'error' });
    const { client } = embedded;
    const lease = await client.lease.grant(5);
    await client.put('leased', 'x', { lease: lease.id });
    expect((await client.get('leased'))?.lease).to.equal(lease.id);
    await client.lease.revoke(lease.id);
    expect(await client.get('leased')).to.equal(undefined);

    const session = await client.session({ ttl: 2 });
    await client.put('alive', 'yes', { lease: session.lease });
    await new Promise((resolve) => setTimeout(resolve, 3500)); // past the TTL: only keep-alives hold it
    expect(session.state.kind).to.equal('alive');
    expect((await client.get('alive'))?.value.toString()).to.equal('yes');
    await session.close();
    expect(await client.get('alive')).to.equal(undefined);
  });

  it('runs the recipes: a Mutex hands over with a larger fencing token, an Election is observed', async () => {
    embedded = await startEmbedded({ 'name': 'client-recipes', 'data-dir': await dirs.make('recipes'), 'log-level': 'error' });
    const { client } = embedded;
    const [a, b] = await Promise.all([client.session({ ttl: 10 }), client.session({ ttl: 10 })]);
    const first = await new Mutex(a, 'locks/job').lock();
    let secondHeld = false;
    const second = new Mutex(b, 'locks/job').lock().then((handle) => {
      secondHeld = true;
      return handle;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(secondHeld, 'the second lock waits for the first').to.equal(false);
    await first.unlock();
    const handle = await second;
    expect(handle.fencingToken > first.fencingToken).to.equal(true);
    await handle.unlock();

    const election = new Election(a, 'elect/service');
    await election.campaign('instance-a');
    // Another session observes: the current leader's value, then each proclamation.
    const observed = new Election(b, 'elect/service').observe()[Symbol.asyncIterator]();
    const seen = [(await observed.next()).value!.value.toString()];
    await election.proclaim('instance-a, busy');
    seen.push((await observed.next()).value!.value.toString());
    await observed.return();
    expect(seen).to.deep.equal(['instance-a', 'instance-a, busy']);
    await election.resign();
    await Promise.all([a.close(), b.close()]);
  });

  it('passes a Client’s credentials: its token on every call and stream', async () => {
    embedded = await startEmbedded({ 'name': 'client-auth', 'data-dir': await dirs.make('auth'), 'log-level': 'error', 'bcrypt-cost': 4 });
    const raw = embedded.client.raw;
    await raw.unary('Auth', 'UserAdd', { name: 'root', password: 'pw' });
    await raw.unary('Auth', 'RoleAdd', { name: 'root' });
    await raw.unary('Auth', 'UserGrantRole', { user: 'root', role: 'root' });
    await raw.unary('Auth', 'AuthEnable', {});
    const root = new Client({ channel: embedded.channel, auth: { username: 'root', password: 'pw' } });
    try {
      const watch = root.watch('secret/', { prefix: true });
      await watch.ready;
      const events = take(watch, 1);
      await root.put('secret/a', '1');
      expect((await events).map((e) => e.kv.value.toString())).to.deep.equal(['1']);
      expect((await root.get('secret/a'))?.value.toString()).to.equal('1');
      const refused = (await rejection(embedded.client.get('secret/a'))) as EtcdError;
      expect(refused).to.be.instanceOf(EtcdError);
      expect(refused.details).to.equal('etcdserver: user name is empty');
      await root.raw.unary('Auth', 'AuthDisable', {});
    } finally {
      await root.close();
    }
  });

  it('close() stops the member; starting again on the data dir finds the data', async () => {
    const dataDir = await dirs.make('reopen');
    const config = { 'name': 'client-reopen', 'data-dir': dataDir, 'log-level': 'error' };
    const first = await startEmbedded(config);
    const put = await first.client.put('kept', 'across restarts');
    await first.close();
    await rejection(first.client.get('kept'));

    embedded = await startEmbedded(config);
    const got = await embedded.client.get('kept');
    expect(got?.value.toString()).to.equal('across restarts');
    expect(got?.modRevision).to.equal(put.header.revision);
  });

  it('shares its channel: a second Client on it sees the same member', async () => {
    embedded = await startEmbedded({ 'name': 'client-shared', 'data-dir': await dirs.make('shared'), 'log-level': 'error' });
    const other = new Client({ channel: embedded.channel });
    await embedded.client.put('shared', '1');
    expect((await other.get('shared'))?.value.toString()).to.equal('1');
  });

  it('gives the client the same typed errors as a Client over gRPC to the same member', async () => {
    const port = await freeLoopbackPort();
    const url = `http://127.0.0.1:${port}`;
    embedded = await startEmbedded({
      'name': 'client-errors',
      'data-dir': await dirs.make('errors'),
      'log-level': 'error',
      'listen-client-urls': url,
      'advertise-client-urls': url,
    });
    const overGrpc = new Client({ endpoints: [url] });
    try {
      const failures: ((client: Client) => Promise<unknown>)[] = [
        (client) => client.lease.revoke(987654321n),
        (client) => client.get('k', { revision: 1_000_000n }),
        (client) => client.lease.grant(10, { id: 77n }), // granted below: "lease already exists"
      ];
      await embedded.client.lease.grant(10, { id: 77n });
      for (const fail of failures) {
        const inProcess = await rejection(fail(embedded.client));
        const remote = await rejection(fail(overGrpc));
        expect(inProcess).to.be.instanceOf(EtcdError);
        expect([inProcess.constructor.name, (inProcess as EtcdError).code, (inProcess as EtcdError).details]).to.deep.equal([
          remote.constructor.name,
          (remote as EtcdError).code,
          (remote as EtcdError).details,
        ]);
      }
    } finally {
      await overGrpc.close();
    }
  });

  it('rejects a bad config with the config error, starting nothing', async () => {
    const error = await rejection(startEmbedded({ 'data-dir': await dirs.make('bad'), 'max-txn-ops': 0 }));
    expect(error).to.be.instanceOf(ConfigError);
    expect(error.message).to.equal('config: max-txn-ops must be >= 1');
  });
});
