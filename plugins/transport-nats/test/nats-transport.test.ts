import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LazySnapshot, message, RecordingHandler, repeatUntil, largeAppend, comparable } from '@cairn/core/testkit';
import { MessageType } from '@cairn/core';
import { NatsServerProcess, skipWithoutNatsServer } from '../testing/index.js';
import { idOf, TransportHarness, waitUntil } from './transport-harness.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const pluginDirectory = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A handler that also records the cluster ID a joining member learns. */
class JoiningHandler extends RecordingHandler {
  readonly learned: string[] = [];
  onClusterId(clusterId: string): void {
    this.learned.push(clusterId);
  }
}

describe('NatsTransport against a real nats-server', function () {
  this.timeout(60_000);
  let server: NatsServerProcess | undefined;
  let harness: TransportHarness;

  before(function () {
    skipWithoutNatsServer(this);
  });

  afterEach(async () => {
    await harness?.stopAll();
    await server?.stop();
    server = undefined;
  });

  const startServer = async (config?: string): Promise<NatsServerProcess> => {
    server = await NatsServerProcess.startAlone(config);
    harness = new TransportHarness(() => [server!.url]);
    return server;
  };

  it('drops and counts what another cluster publishes on its subject; its own cluster gets through', async () => {
    await startServer();
    const a = await harness.start('a', ['a', 'b', 'x']);
    const b = await harness.start('b', ['a', 'b']);
    const stranger = await harness.start('x', ['a', 'x'], { clusterId: 'deadbeef00000002' });
    stranger.transport.send([message(MessageType.Heartbeat, stranger.id, a.id, { index: 1 })]);
    b.transport.send([message(MessageType.Heartbeat, b.id, a.id, { index: 2 })]);
    await waitUntil(() => a.handler.messages.some((m) => m.index === 2), 'a message from its own cluster arrived');
    await waitUntil(() => a.transport.stats().refused['foreign-cluster'] === 1, 'the foreign message was counted');
    assert.deepEqual(
      a.handler.messages.map((m) => m.from),
      [b.id],
    );
    assert.equal(a.transport.stats().peers.get(stranger.id)?.receivedFailures, 1);
  });

  it('a joining member takes the cluster ID of a known peer that reaches it, and no one else’s', async () => {
    await startServer();
    const a = await harness.start('a', ['a', 'j']);
    const stranger = await harness.start('x', ['x', 'j'], { clusterId: 'deadbeef00000002' });
    const handler = new JoiningHandler();
    const joiner = await harness.start('j', ['a', 'j'], { clusterId: '' }, handler);
    stranger.transport.send([message(MessageType.Heartbeat, stranger.id, joiner.id, { index: 1 })]);
    await waitUntil(() => joiner.transport.stats().refused['foreign-cluster'] === 1, 'the unknown member was refused');
    a.transport.send([message(MessageType.App, a.id, joiner.id, { index: 2 })]);
    await waitUntil(() => handler.messages.length === 1, 'the known peer got through');
    assert.deepEqual(handler.learned, ['c0ffee0000000001']);
  });

  it('rides out a nats-server restart: holds a bounded queue while disconnected, reconnects and delivers by itself', async () => {
    const nats = await startServer();
    const queueSize = 64;
    const a = await harness.start('a', ['a', 'b'], { queueSize });
    const b = await harness.start('b', ['a', 'b'], { queueSize });
    a.transport.send([message(MessageType.Heartbeat, a.id, b.id, { index: 1 })]);
    await waitUntil(() => b.handler.messages.length === 1, 'the first message arrived');
    await nats.kill();
    await waitUntil(() => a.transport.connectionState() === 'reconnecting', 'a noticed the server is gone');
    a.transport.send(Array.from({ length: 4 * queueSize }, (_, i) => message(MessageType.App, a.id, b.id, { index: 100 + i })));
    await sleep(100);
    assert.equal(a.transport.stats().droppedMessages, 3 * queueSize, 'what overflowed the queue while disconnected was dropped and counted');
    await nats.start();
    await waitUntil(() => a.transport.connectionState() === 'connected' && b.transport.connectionState() === 'connected', 'both reconnected', 15_000);
    await repeatUntil(
      () => a.transport.send([message(MessageType.Heartbeat, a.id, b.id, { index: 9999 })]),
      () => b.handler.messages.some((m) => m.index === 9999),
      'a message after the restart arrived',
    );
    const stats = a.transport.stats();
    assert.ok(stats.disconnects >= 1 && stats.reconnects >= 1, `disconnects ${stats.disconnects}, reconnects ${stats.reconnects}`);
    const held = b.handler.messages.filter((m) => m.index >= 100 && m.index < 9999).map((m) => m.index);
    assert.ok(held.length <= queueSize, `${held.length} held messages delivered; the queue holds ${queueSize}`);
  });

  it('subscribes again when a permissions reload closed its subscription', async () => {
    const users = (deny: string): string =>
      `authorization { users = [ { user: a, password: pa }, { user: b, password: pb, permissions: { publish: ">", subscribe: { allow: ">"${deny} } } } ] }`;
    const nats = await startServer(users(''));
    const a = await harness.start('a', ['a', 'b'], { credentials: { kind: 'user', user: 'a', pass: 'pa' } });
    const b = await harness.start('b', ['a', 'b'], { credentials: { kind: 'user', user: 'b', pass: 'pb' } });
    a.transport.send([message(MessageType.Heartbeat, a.id, b.id, { index: 1 })]);
    await waitUntil(() => b.handler.messages.length === 1, 'the first message arrived');
    await nats.reload(users(`, deny: "${harness.prefix}.>"`));
    await sleep(700);
    const before = b.handler.messages.length;
    a.transport.send([message(MessageType.Heartbeat, a.id, b.id, { index: 2 })]);
    await sleep(300);
    assert.equal(b.handler.messages.length, before, 'a denied subscription delivered');
    await nats.reload(users(''));
    await repeatUntil(
      () => a.transport.send([message(MessageType.Heartbeat, a.id, b.id, { index: 3 })]),
      () => b.handler.messages.some((m) => m.index === 3),
      'a message after the permission came back arrived',
      100,
      20_000,
    );
    assert.ok(b.transport.stats().resubscribes >= 1, 'the subscription was made again');
  });

  it('a slow-consumer disconnect does not wedge the member', async function () {
    const nats = await startServer('max_pending: 262144\nmax_payload: 131072\nwrite_deadline: "500ms"');
    const a = await harness.start('a', ['a', 'b']);
    const b = await harness.start('b', ['a', 'b']);
    // Another process floods b's subject while this one (and so b) does not read.
    const flood = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { connect } from 'nats';
         const nc = await connect({ servers: '${nats.url}' });
         console.log('connected');
         const junk = new Uint8Array(100 * 1024);
         for (let i = 0; i < 200; i++) nc.publish('${harness.prefix}.harness.b', junk);
         await nc.flush();
         await nc.close();`,
      ],
      { cwd: pluginDirectory, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolveConnected, reject) => {
        flood.stdout!.once('data', () => resolveConnected());
        flood.once('exit', (code) => reject(new Error(`the flooding process exited with ${code}`)));
      });
      const busyUntil = Date.now() + 2_500;
      while (Date.now() < busyUntil) {
        // This process stops reading: the server finds b a slow consumer and drops its connection.
      }
      await waitUntil(() => b.transport.stats().disconnects >= 1, 'the server dropped the slow consumer', 10_000);
      await repeatUntil(
        () => a.transport.send([message(MessageType.Heartbeat, a.id, b.id, { index: 42 })]),
        () => b.handler.messages.some((m) => m.index === 42),
        'a message after the slow-consumer disconnect arrived',
      );
      assert.equal(b.transport.connectionState(), 'connected');
    } finally {
      if (flood.exitCode === null && flood.signalCode === null) flood.kill('SIGKILL');
    }
  });

  it('resumes a snapshot transfer the nats-server restart interrupted, and the stream arrives whole', async () => {
    const nats = await startServer();
    const a = await harness.start('a', ['a', 'b'], { snapshotRetransmitMs: 200, snapshotIdleTimeoutMs: 20_000 });
    const b = await harness.start('b', ['a', 'b'], { snapshotRetransmitMs: 200, snapshotIdleTimeoutMs: 20_000 });
    const snapshot = new LazySnapshot(24 << 20);
    const received = createHash('sha256');
    let bytes = 0;
    let restarted: Promise<void> | undefined;
    b.handler.receiveSnapshot = async (_m, data) => {
      for await (const chunk of data) {
        received.update(chunk);
        bytes += chunk.byteLength;
        if (restarted === undefined && bytes >= 6 << 20) {
          restarted = (async () => {
            await nats.kill();
            await sleep(300);
            await nats.start();
          })();
        }
        await sleep(5);
      }
    };
    const snap = message(MessageType.Snap, a.id, b.id, { term: 3, snapshot: { index: 77, term: 3, confState: { voters: [a.id, b.id], learners: [] } } });
    await a.transport.sendSnapshot(snap, snapshot.stream());
    await restarted;
    assert.equal(bytes, 24 << 20);
    assert.equal(received.digest('hex'), snapshot.digest());
    assert.ok(a.transport.stats().snapshotChunksResent > 0, 'chunks lost in the restart were sent again');
  });

  it('keeps every NATS message under a small max_payload: big Raft messages in fragments, snapshots in small chunks', async () => {
    await startServer('max_payload: 65536');
    const a = await harness.start('a', ['a', 'b']);
    const b = await harness.start('b', ['a', 'b']);
    const big = largeAppend(a.id, b.id, 1 << 20);
    a.transport.send([message(MessageType.Heartbeat, a.id, b.id, { index: 1 }), big, message(MessageType.Heartbeat, a.id, b.id, { index: 2 })]);
    await waitUntil(() => b.handler.messages.length === 3, 'three messages arrived');
    assert.deepEqual(b.handler.messages.map(comparable)[1], comparable(big));
    assert.deepEqual(
      b.handler.messages.map((m) => m.index),
      [1, big.index, 2],
    );
    const snapshot = new LazySnapshot(2 << 20);
    const received = createHash('sha256');
    b.handler.receiveSnapshot = async (_m, data) => {
      for await (const chunk of data) {
        assert.ok(chunk.byteLength <= 65536, `a ${chunk.byteLength}-byte chunk`);
        received.update(chunk);
      }
    };
    await a.transport.sendSnapshot(
      message(MessageType.Snap, a.id, b.id, { snapshot: { index: 5, term: 1, confState: { voters: [a.id], learners: [] } } }),
      snapshot.stream(),
    );
    assert.equal(received.digest('hex'), snapshot.digest());
    assert.equal(a.transport.stats().droppedMessages, 0);
  });

  it('counts bytes per peer both ways', async () => {
    await startServer();
    const a = await harness.start('a', ['a', 'b']);
    const b = await harness.start('b', ['a', 'b']);
    a.transport.send([message(MessageType.Heartbeat, a.id, b.id, { index: 1 })]);
    await waitUntil(() => b.handler.messages.length === 1, 'the message arrived');
    assert.ok(a.transport.stats().peers.get(b.id)!.sentBytes > 0);
    assert.equal(b.transport.stats().peers.get(a.id)!.receivedBytes, a.transport.stats().peers.get(b.id)!.sentBytes);
    assert.equal(idOf('b'), b.id);
  });
});
