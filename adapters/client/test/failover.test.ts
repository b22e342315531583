import { strict as assert } from 'node:assert';
import { freeLoopbackPort } from '@cairn/core/testkit';
import { CairnMemberFixture } from './cairn-member-fixture.js';
import { InterposedChannel } from './interposed-channel.js';
import {
  ChannelError,
  Client,
  GrpcChannel,
  NoLeaderError,
  UnavailableError,
  isRetryable,
  type ChannelCallOptions,
  type ChannelDuplex,
  type ChannelStream,
  type EtcdChannel,
  type EtcdServiceName,
  type WireMessage,
} from '../src/index.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** An endpoint whose member has no leader: every unary call fails as etcd's does then. */
class NoLeaderChannel implements EtcdChannel {
  readonly calls: string[] = [];
  constructor(readonly target: string) {}
  unary(service: EtcdServiceName, method: string): Promise<WireMessage> {
    this.calls.push(`${service}.${method}`);
    return Promise.reject(new ChannelError(14, 'etcdserver: no leader'));
  }
  duplex(): ChannelDuplex {
    throw new ChannelError(14, 'etcdserver: no leader');
  }
  serverStream(): ChannelStream {
    throw new ChannelError(14, 'etcdserver: no leader');
  }
  close(): void {}
}

describe('endpoints and failover', function () {
  let cairn: CairnMemberFixture;

  before(async () => {
    cairn = await CairnMemberFixture.start();
  });
  after(async () => cairn?.close());

  it('skips a dead endpoint (nothing listens) for reads and writes alike', async () => {
    const dead = `http://127.0.0.1:${await freeLoopbackPort()}`;
    const client = new Client({ endpoints: [dead, cairn.endpoint], dialTimeoutMs: 2000 });
    try {
      const started = Date.now();
      // A refused dial sent nothing: even a write may go to the next endpoint.
      await client.put('fo/k', 'v');
      assert.equal((await client.get('fo/k'))?.value.toString(), 'v');
      assert.ok(Date.now() - started < 2000, 'the refused connection is noticed at once, not at the dial timeout');
      const status = await client.cluster.status();
      assert.equal(status.endpoint, cairn.endpoint);
      assert.equal((await client.cluster.members()).length, 1);
      await assert.rejects(client.cluster.status(dead), UnavailableError);
    } finally {
      await client.close();
    }
  });

  it('retries reads on the next endpoint after etcd: no leader, never writes', async () => {
    const noLeader = new NoLeaderChannel('no-leader:1');
    await cairn.client().put('fo/read', 'r');
    const fresh = new Client({
      endpoints: ['no-leader:1', cairn.endpoint],
      channel: (endpoint) => (endpoint === 'no-leader:1' ? noLeader : new GrpcChannel(endpoint)),
    });
    try {
      noLeader.calls.length = 0;
      assert.equal((await fresh.get('fo/read'))?.value.toString(), 'r');
      assert.deepEqual(noLeader.calls, ['KV.Range'], 'tried the first endpoint, then retried elsewhere');

      const writer = new Client({
        endpoints: ['no-leader:1', cairn.endpoint],
        channel: (endpoint) => (endpoint === 'no-leader:1' ? noLeader : new GrpcChannel(endpoint)),
      });
      try {
        const err = await writer.put('fo/write', 'w').then(
          () => assert.fail('a write must not be retried'),
          (e: unknown) => e,
        );
        assert.ok(err instanceof NoLeaderError);
        assert.ok(err instanceof UnavailableError);
        assert.equal(isRetryable(err), true);
        assert.equal(err.details, 'etcdserver: no leader');
        assert.equal(err.endpoint, 'no-leader:1');
        assert.equal(await fresh.get('fo/write'), undefined, 'the write went nowhere else');
        // The failed endpoint is now unhealthy: the next write uses the other one.
        await writer.put('fo/write', 'w2');
        assert.equal((await fresh.get('fo/write'))?.value.toString(), 'w2');
      } finally {
        await writer.close();
      }
    } finally {
      await fresh.close();
    }
  });

  it('resumes a watch on the next endpoint when its stream fails', async () => {
    const channels = new Map<string, InterposedChannel>();
    const second = `127.0.0.1:${cairn.port}`;
    const client = new Client({
      endpoints: [cairn.endpoint, second],
      channel: (endpoint) => {
        const channel = new InterposedChannel(endpoint);
        channels.set(endpoint, channel);
        return channel;
      },
    });
    const writer = cairn.client();
    try {
      const watch = client.watch('fo-w/', { prefix: true });
      await watch.ready;
      const keys: string[] = [];
      const reading = (async () => {
        for await (const e of watch) keys.push(e.kv.key.toString());
      })();
      await writer.put('fo-w/1', 'a');
      while (keys.length < 1) await sleep(10);
      const first = channels.get(cairn.endpoint)!;
      first.blackhole = true;
      first.duplexes[0]!.breakWith();
      await writer.put('fo-w/2', 'b');
      await writer.put('fo-w/3', 'c');
      const started = Date.now();
      while (keys.length < 3 && Date.now() - started < 5000) await sleep(10);
      watch.close();
      await reading;
      assert.deepEqual(keys, ['fo-w/1', 'fo-w/2', 'fo-w/3']);
      assert.equal(channels.get(second)?.duplexes.length, 1, 'resumed on the second endpoint');
    } finally {
      await client.close();
    }
  });

  it('keeps a lease alive through another endpoint when its endpoint stops answering', async () => {
    const channels = new Map<string, InterposedChannel>();
    // Two names for the same member, so that one can be "paused" alone.
    const client = new Client({
      endpoints: [cairn.endpoint, `127.0.0.1:${cairn.port}`],
      channel: (endpoint) => {
        const channel = new InterposedChannel(endpoint);
        channels.set(endpoint, channel);
        return channel;
      },
    });
    try {
      const session = await client.session({ ttl: 3 });
      await sleep(300);
      const first = channels.get(cairn.endpoint)!;
      first.blackhole = true;
      await sleep(5000);
      assert.equal(session.state.kind, 'alive', `state ${JSON.stringify(session.state)}`);
      assert.ok(channels.get(`127.0.0.1:${cairn.port}`)!.duplexes.length >= 1, 'the keeper moved to the other endpoint');
      assert.ok((await client.lease.timeToLive(session.lease)).ttl > 0);
      await session.close();
    } finally {
      await client.close();
    }
  });

  it('reports a lease lost when every endpoint stops answering', async () => {
    const channel = { current: undefined as InterposedChannel | undefined };
    const client = new Client({
      endpoints: [cairn.endpoint],
      channel: (endpoint) => (channel.current = new InterposedChannel(endpoint)),
    });
    try {
      const session = await client.session({ ttl: 2 });
      let lastExpiry = 0;
      client.lease.keepAlive(session.lease, { ttl: 2 }).close(); // a second keeper must not disturb the session's
      const states: string[] = [];
      const track = setInterval(() => {
        const state = session.state;
        states.push(state.kind);
        if (state.kind === 'alive') lastExpiry = state.expiresAt;
      }, 10);
      await sleep(300);
      channel.current!.blackhole = true;
      const blackholedAt = Date.now();
      const lost = await session.lost;
      const lostAt = Date.now();
      clearInterval(track);
      assert.equal(lost.reason, 'expired');
      assert.ok(lostAt <= lastExpiry + 100, `lost ${lostAt - lastExpiry} ms after the last claimed expiry`);
      assert.ok(lastExpiry <= blackholedAt + 2000, 'no renewal was acknowledged after the endpoint went silent');
      assert.ok(lostAt - blackholedAt >= 2000 - 800, 'the lease was renewed up to the silence');
    } finally {
      await client.close();
    }
  });
});

export type { ChannelCallOptions };
