import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Transport } from '../../../ports/transport.js';
import { MessageType, type MemberId, type Message } from '../../../protocol/raft-types.js';
import { LazySnapshot } from './lazy-snapshot.js';
import { RecordingHandler, repeatUntil, sleep, waitUntil } from './recording-handler.js';
import { comparable, largeAppend, message, richMessages } from './sample-messages.js';
import type { TransportConformanceOptions, TransportFixture, TransportFixtureFactory } from './transport-fixture.js';

/** A running transport and what it received. */
interface Member {
  readonly id: MemberId;
  readonly transport: Transport;
  readonly handler: RecordingHandler;
}

/**
 * The conformance suite every Transport passes: defines a mocha `describe` named after the
 * implementation. `factory` builds members on loopback; each test gets a fresh fixture.
 */
export function transportConformance(name: string, factory: TransportFixtureFactory, options: TransportConformanceOptions = {}): void {
  const snapshotBytes = options.snapshotBytes ?? 64 * 1024 * 1024;

  describe(`Transport conformance: ${name}`, function () {
    this.timeout(60_000);
    let fixture: TransportFixture | undefined;
    let started: Member[] = [];

    const setUp = async (memberCount: number): Promise<TransportFixture> => {
      fixture = await factory(memberCount);
      return fixture;
    };

    /** Start a (new incarnation of) member `id` with the full peer table. */
    const start = async (id: MemberId): Promise<Member> => {
      const f = fixture!;
      const transport = f.create(id);
      const handler = new RecordingHandler();
      transport.setPeers(f.peers);
      await transport.start(id, handler);
      const member = { id, transport, handler };
      started.push(member);
      return member;
    };

    afterEach(async () => {
      for (const m of started) await m.transport.stop();
      started = [];
      await fixture?.dispose();
      fixture = undefined;
    });

    it('delivers every field of every message intact, large messages included', async () => {
      const f = await setUp(2);
      const [a, b] = [await start(f.members[0]!), await start(f.members[1]!)];
      const sent = [...richMessages(a.id, b.id, [a.id, b.id], ['learner-1']), largeAppend(a.id, b.id, 4 * 1024 * 1024)];
      a.transport.send(sent);
      await waitUntil(() => b.handler.messages.length >= sent.length, `${sent.length} messages arrived`);
      assert.deepEqual(b.handler.messages.map(comparable), sent.map(comparable));
    });

    it('keeps the order of messages from each sender to each receiver', async () => {
      const f = await setUp(3);
      const [a, b, c] = [await start(f.members[0]!), await start(f.members[1]!), await start(f.members[2]!)];
      const perSender = 2000;
      const batch = Math.max(1, Math.min(50, Math.floor(f.queueSize / 4)));
      for (let i = 1; i <= perSender; i += batch) {
        const indexes = Array.from({ length: Math.min(batch, perSender - i + 1) }, (_, k) => i + k);
        a.transport.send(indexes.map((index) => message(MessageType.Heartbeat, a.id, b.id, { index })));
        c.transport.send(indexes.map((index) => message(MessageType.Heartbeat, c.id, b.id, { index })));
        await sleep(1);
      }
      await waitUntil(() => b.handler.messages.length >= 2 * perSender, `${2 * perSender} messages arrived`);
      const expected = Array.from({ length: perSender }, (_, k) => k + 1);
      assert.deepEqual(
        b.handler.from(a.id).map((m) => m.index),
        expected,
        `order from ${a.id}`,
      );
      assert.deepEqual(
        b.handler.from(c.id).map((m) => m.index),
        expected,
        `order from ${c.id}`,
      );
    });

    it('returns at once from send to an unknown or dead peer, and other peers are not held up', async () => {
      const f = await setUp(3);
      const [a, b] = [await start(f.members[0]!), await start(f.members[1]!)];
      const dead = f.members[2]!;
      const unknown = 'ffffffffffffffff';
      assert.equal(a.transport.send([message(MessageType.Heartbeat, a.id, unknown)]), undefined);
      const burst = Array.from({ length: 4 * f.queueSize }, (_, i) => message(MessageType.App, a.id, dead, { index: i + 1 }));
      for (let round = 0; round < 5; round++) {
        assert.equal(a.transport.send(burst), undefined);
        await sleep(10);
      }
      a.transport.send([message(MessageType.Heartbeat, a.id, b.id, { index: 7 })]);
      await waitUntil(() => b.handler.messages.some((m) => m.index === 7), `${b.id} got a message while ${dead} is dead`);
    });

    it('reaches a peer that comes up later, and its next incarnation after a restart', async () => {
      const f = await setUp(2);
      const a = await start(f.members[0]!);
      const bId = f.members[1]!;
      a.transport.send([message(MessageType.Heartbeat, a.id, bId, { index: 1 })]);
      await sleep(50);
      const b1 = await start(bId);
      let seq = 100;
      await repeatUntil(
        () => a.transport.send([message(MessageType.Heartbeat, a.id, bId, { index: ++seq })]),
        () => b1.handler.messages.some((m) => m.index > 100),
        `${bId} got a message after it came up`,
      );
      await b1.transport.stop();
      const restartedAt = seq;
      const b2 = await start(bId);
      await repeatUntil(
        () => a.transport.send([message(MessageType.Heartbeat, a.id, bId, { index: ++seq })]),
        () => b2.handler.messages.some((m) => m.index > restartedAt),
        `${bId}'s next incarnation got a message`,
      );
      const indexes = b2.handler.messages.map((m) => m.index).filter((i) => i > restartedAt);
      assert.deepEqual(
        indexes,
        [...indexes].sort((x, y) => x - y),
        'later messages arrive in order',
      );
    });

    it('drops what overflows a peer queue instead of buffering without bound', async () => {
      const f = await setUp(2);
      const a = await start(f.members[0]!);
      const bId = f.members[1]!;
      const burst = 4 * f.queueSize;
      a.transport.send(Array.from({ length: burst }, (_, i) => message(MessageType.App, a.id, bId, { index: i + 1 })));
      const b = await start(bId);
      const marker = burst + 1_000_000;
      await repeatUntil(
        () => a.transport.send([message(MessageType.Heartbeat, a.id, bId, { index: marker })]),
        () => b.handler.messages.some((m) => m.index === marker),
        `${bId} got a message sent after the burst`,
      );
      const fromBurst = b.handler.messages.filter((m) => m.index <= burst).map((m) => m.index);
      assert.ok(fromBurst.length <= f.queueSize, `${fromBurst.length} of a ${burst}-message burst were kept for a down peer; the queue holds ${f.queueSize}`);
      assert.deepEqual(
        fromBurst,
        [...fromBurst].sort((x, y) => x - y),
        'what was kept is in order',
      );
    });

    it(`streams a ${snapshotBytes >> 20} MiB snapshot without holding it whole, and resolves only after the receiver stored it`, async () => {
      const f = await setUp(2);
      const [a, b] = [await start(f.members[0]!), await start(f.members[1]!)];
      const snapshot = new LazySnapshot(snapshotBytes);
      const received = createHash('sha256');
      let receivedBytes = 0;
      let stored = false;
      b.handler.receiveSnapshot = async (_m, data) => {
        let sincePause = 0;
        for await (const chunk of data) {
          received.update(chunk);
          receivedBytes += chunk.byteLength;
          snapshot.consumed += chunk.byteLength;
          sincePause += chunk.byteLength;
          // A slow disk: a sender that ignores backpressure runs far ahead here.
          if (sincePause >= 8 << 20) {
            sincePause = 0;
            await sleep(20);
          }
        }
        await sleep(100);
        stored = true;
      };
      const snap = message(MessageType.Snap, a.id, b.id, {
        term: 5,
        snapshot: { index: 1234, term: 4, confState: { voters: [a.id, b.id], learners: ['learner-9'] } },
      });
      await a.transport.sendSnapshot(snap, snapshot.stream());
      assert.equal(stored, true, 'sendSnapshot resolved before the receiver stored the snapshot');
      assert.equal(receivedBytes, snapshotBytes);
      assert.equal(received.digest('hex'), snapshot.digest(), 'snapshot bytes differ');
      assert.deepEqual(b.handler.snapshots.map(comparable), [comparable(snap)]);
      assert.ok(
        snapshot.maxLead < snapshotBytes / 2,
        `the sender ran ${(snapshot.maxLead / 2 ** 20).toFixed(1)} MiB ahead of the receiver: the snapshot was buffered, not streamed`,
      );
    });

    it('rejects sendSnapshot when the receiver refuses the snapshot, midway or at once', async () => {
      const f = await setUp(2);
      const [a, b] = [await start(f.members[0]!), await start(f.members[1]!)];
      const snap = message(MessageType.Snap, a.id, b.id, { term: 2, snapshot: { index: 10, term: 2, confState: { voters: [a.id, b.id], learners: [] } } });
      b.handler.receiveSnapshot = async (_m, data) => {
        let n = 0;
        for await (const chunk of data) {
          n += chunk.byteLength;
          if (n >= 1 << 20) throw new Error('disk full');
        }
      };
      await assert.rejects(a.transport.sendSnapshot(snap, new LazySnapshot(8 << 20).stream()));
      b.handler.receiveSnapshot = () => Promise.reject(new Error('snapshot is older than the applied index'));
      await assert.rejects(a.transport.sendSnapshot(snap, new LazySnapshot(8 << 20).stream()));
      // The messages connection is unaffected.
      a.transport.send([message(MessageType.Heartbeat, a.id, b.id, { index: 3 })]);
      await waitUntil(() => b.handler.messages.some((m) => m.index === 3), 'a message after two refused snapshots arrived');
    });

    it('rejects sendSnapshot to a dead or unknown peer', async () => {
      const f = await setUp(2);
      const a = await start(f.members[0]!);
      const dead = f.members[1]!;
      const snap = (to: string): Message =>
        message(MessageType.Snap, a.id, to, { snapshot: { index: 1, term: 1, confState: { voters: [a.id], learners: [] } } });
      await assert.rejects(a.transport.sendSnapshot(snap(dead), new LazySnapshot(1 << 20).stream()));
      await assert.rejects(a.transport.sendSnapshot(snap('ffffffffffffffff'), new LazySnapshot(1 << 20).stream()));
    });

    it('stop() is idempotent, ends delivery, and frees the address for the next incarnation', async () => {
      const f = await setUp(2);
      const [a, b] = [await start(f.members[0]!), await start(f.members[1]!)];
      a.transport.send([message(MessageType.Heartbeat, a.id, b.id, { index: 1 })]);
      await waitUntil(() => b.handler.messages.length === 1, 'the first message arrived');
      await Promise.all([b.transport.stop(), b.transport.stop()]);
      await b.transport.stop();
      for (let i = 0; i < 10; i++) {
        a.transport.send([message(MessageType.Heartbeat, a.id, b.id, { index: 2 })]);
        await sleep(10);
      }
      assert.equal(b.handler.messages.length, 1, 'a stopped transport delivered a message');
      assert.equal(b.transport.send([message(MessageType.Heartbeat, b.id, a.id)]), undefined, 'send after stop must not throw');
      await assert.rejects(b.transport.sendSnapshot(message(MessageType.Snap, b.id, a.id), new LazySnapshot(1024).stream()));
      const again = await start(b.id);
      await repeatUntil(
        () => a.transport.send([message(MessageType.Heartbeat, a.id, b.id, { index: 3 })]),
        () => again.handler.messages.some((m) => m.index === 3),
        'the next incarnation on the same address got a message',
      );
    });

    const rawWire = options.rawWire;
    if (rawWire !== undefined) {
      it('drops a connection that sends garbage, and keeps serving everyone else', async () => {
        const f = await setUp(2);
        const [a, b] = [await start(f.members[0]!), await start(f.members[1]!)];
        const address = f.peers.get(b.id)![0]!;
        const noise = new Uint8Array(64 * 1024);
        let x = 0x2545f491;
        for (let i = 0; i < noise.length; i++) {
          x ^= x << 13;
          x ^= x >>> 17;
          x ^= x << 5;
          noise[i] = x & 0xff;
        }
        const samples = [
          noise,
          new TextEncoder().encode('GET / HTTP/1.1\r\nHost: cairn\r\n\r\n'),
          new Uint8Array(4096),
          Uint8Array.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4]),
        ];
        for (const garbage of samples) await rawWire.sendGarbage(address, garbage, 10_000);
        a.transport.send([message(MessageType.Heartbeat, a.id, b.id, { index: 5 })]);
        await waitUntil(() => b.handler.messages.some((m) => m.index === 5), 'a message after the garbage arrived');
        assert.equal(b.handler.messages.filter((m) => m.from !== a.id).length, 0, 'garbage turned into a message');
      });
    }
  });
}
