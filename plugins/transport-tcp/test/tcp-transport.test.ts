import { expect } from 'chai';
import { connect } from 'node:net';
import { Container } from 'inversify';
import { MessageType, TRANSPORT, type PluginContext, type Transport } from '@cairn/core';
import { LazySnapshot, MemoryLogger, message, pluginContext, pluginTestContainer, RecordingHandler, waitUntil } from '@cairn/core/testkit';
import plugin from '../src/index.js';
import { PROTOCOL_VERSION, ConnectionKind } from '../src/handshake.js';
import { parsePeerAddress } from '../src/peer-address.js';
import { TcpTransport } from '../src/tcp-transport.js';
import { encodeHelloFrame, encodeMessageFrame } from '../src/wire-codec.js';
import { freeLoopbackPorts } from './loopback-ports.js';

const A = 'aaaaaaaaaaaaaaaa';
const B = 'bbbbbbbbbbbbbbbb';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('TcpTransport', () => {
  let running: Transport[] = [];
  let ports: number[];

  beforeEach(async () => {
    ports = await freeLoopbackPorts(2);
  });

  afterEach(async () => {
    for (const t of running) await t.stop();
    running = [];
  });

  const peers = (): Map<string, string[]> =>
    new Map([
      [A, [`tcp://127.0.0.1:${ports[0]}`]],
      [B, [`http://127.0.0.1:${ports[1]}`]],
    ]);

  async function member(
    id: string,
    clusterId = 'cluster-1',
    queueSize = 64,
  ): Promise<{ transport: TcpTransport; handler: RecordingHandler; logger: MemoryLogger }> {
    const logger = new MemoryLogger({ level: 'debug' });
    const transport = new TcpTransport(
      {
        listen: `127.0.0.1:${ports[id === A ? 0 : 1]}`,
        clusterId,
        queueSize,
        reconnect: { initialMs: 10, maxMs: 100 },
      },
      logger,
    );
    const handler = new RecordingHandler();
    transport.setPeers(peers());
    await transport.start(id, handler);
    running.push(transport);
    return { transport, handler, logger };
  }

  /** A hand-made connection to B that says Hello properly, then writes `frames`. Resolves when B hangs up. */
  function rawConnection(frames: Buffer[]): Promise<void> {
    return new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: ports[1]! }, () => {
        socket.write(encodeHelloFrame({ version: PROTOCOL_VERSION, kind: ConnectionKind.Messages, clusterId: 'cluster-1', from: A, to: B }));
        for (const f of frames) socket.write(f);
      });
      socket.on('data', () => undefined);
      socket.on('error', () => undefined);
      socket.on('close', () => resolve());
    });
  }

  it('refuses a member of another cluster, and both sides log why', async () => {
    const a = await member(A, 'cluster-1');
    const b = await member(B, 'cluster-2');
    for (let i = 0; i < 5; i++) {
      a.transport.send([message(MessageType.Heartbeat, A, B, { index: i })]);
      await sleep(20);
    }
    await waitUntil(() => b.transport.metrics().refusedConnections > 0, 'B refused the connection');
    await waitUntil(() => a.logger.lines().some((l) => l.message === 'peer refused the connection'), 'A logged the refusal');
    expect(b.handler.messages).to.have.length(0);
    const refusal = a.logger.lines().find((l) => l.message === 'peer refused the connection')!;
    expect(String(refusal.fields['reason'])).to.match(
      /cluster ID mismatch: member aaaaaaaaaaaaaaaa is in cluster cluster-1, this member is in cluster cluster-2/,
    );
    const snap = message(MessageType.Snap, A, B, { snapshot: { index: 1, term: 1, confState: { voters: [A, B], learners: [] } } });
    try {
      await a.transport.sendSnapshot(snap, new LazySnapshot(1 << 20).stream());
      expect.fail('a snapshot to another cluster was accepted');
    } catch (err) {
      expect((err as Error).message).to.match(/refused: cluster ID mismatch/);
    }
    expect(b.handler.snapshots).to.have.length(0);
  });

  it('a joining member (cluster ID unknown) takes the cluster of the first known peer, then refuses other clusters', async () => {
    const a = await member(A, 'cluster-1');
    const logger = new MemoryLogger({ level: 'debug' });
    const joiner = new TcpTransport({ listen: `127.0.0.1:${ports[1]}`, reconnect: { initialMs: 10, maxMs: 100 } }, logger);
    const handler = new RecordingHandler();
    const learned: string[] = [];
    joiner.setPeers(peers());
    await joiner.start(
      B,
      { onMessage: (m) => handler.onMessage(m), onSnapshot: (m, d) => handler.onSnapshot(m, d), onClusterId: (id) => learned.push(id) },
      '',
    );
    running.push(joiner);
    // A stranger (not in the joiner's peer table) cannot make it join its cluster.
    await rawHello('cluster-x', 'cccccccccccccccc', B);
    expect(learned).to.deep.equal([]);
    a.transport.send([message(MessageType.Heartbeat, A, B, { index: 1 })]);
    await waitUntil(() => handler.messages.length === 1, "the joiner received the peer's message");
    expect(learned).to.deep.equal(['cluster-1']);
    // The joiner answers under the learned cluster ID, which A accepts.
    joiner.send([message(MessageType.HeartbeatResp, B, A, { index: 1 })]);
    await waitUntil(() => a.handler.messages.length === 1, "A received the joiner's answer");
    await rawHello('cluster-2', A, B);
    await waitUntil(() => joiner.metrics().refusedConnections === 2, 'the joiner refused another cluster');
    expect(learned).to.deep.equal(['cluster-1']);
  });

  /** A hand-made Hello to B from `from` in `clusterId`; resolves when B hangs up (a refusal) or after 300 ms. */
  function rawHello(clusterId: string, from: string, to: string): Promise<void> {
    return new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: ports[1]! }, () => {
        socket.write(encodeHelloFrame({ version: PROTOCOL_VERSION, kind: ConnectionKind.Messages, clusterId, from, to }));
      });
      const timer = setTimeout(() => socket.destroy(), 300);
      socket.on('data', () => undefined);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  it('drops a connection at its first corrupted frame, keeps what came before, and serves new connections', async () => {
    const b = await member(B);
    const good = (index: number): Buffer => encodeMessageFrame(message(MessageType.App, A, B, { index }));
    const corrupted = good(2);
    corrupted[corrupted.byteLength - 3] ^= 0xff;
    await rawConnection([good(1), corrupted, good(3)]);
    expect(b.handler.messages.map((m) => m.index)).to.deep.equal([1]);
    expect(b.transport.metrics().refusedConnections).to.equal(1);
    expect(b.logger.lines().some((l) => /checksum/.test(String(l.fields['reason'])))).to.equal(true);
    const a = await member(A);
    a.transport.send([message(MessageType.App, A, B, { index: 4 })]);
    await waitUntil(() => b.handler.messages.some((m) => m.index === 4), 'a message on a fresh connection arrived');
  });

  it('drops a connection whose messages claim another sender or addressee', async () => {
    const b = await member(B);
    await rawConnection([encodeMessageFrame(message(MessageType.App, 'cccccccccccccccc', B, { index: 1 }))]);
    await rawConnection([encodeMessageFrame(message(MessageType.App, A, 'cccccccccccccccc', { index: 2 }))]);
    expect(b.handler.messages).to.have.length(0);
    expect(b.transport.metrics().refusedConnections).to.equal(2);
  });

  it('counts what it sends, drops and reconnects', async () => {
    const a = await member(A, 'cluster-1', 64);
    a.transport.send(Array.from({ length: 200 }, (_, i) => message(MessageType.App, A, B, { index: i })));
    expect(a.transport.metrics().dropped).to.equal(200 - 64);
    a.transport.send([message(MessageType.App, A, 'cccccccccccccccc')]);
    expect(a.transport.metrics().dropped).to.equal(200 - 64 + 1);
    await waitUntil(() => a.transport.metrics().reconnects >= 2, 'A retried the dead peer');
    const b = await member(B);
    await waitUntil(() => b.handler.messages.length === 64, 'the 64 queued messages arrived once B came up');
    expect(b.handler.messages.map((m) => m.index)).to.deep.equal(Array.from({ length: 64 }, (_, i) => i));
    expect(a.transport.metrics().sent).to.equal(64);
    expect(b.transport.metrics().received).to.equal(64);
  });

  it('fails a snapshot whose source breaks, and the receiver sees the stream break', async () => {
    const a = await member(A);
    const b = await member(B);
    let receiverError: Error | undefined;
    b.handler.receiveSnapshot = async (_m, data) => {
      try {
        for await (const _chunk of data) {
          // Read until the stream breaks.
        }
      } catch (err) {
        receiverError = err as Error;
        throw err;
      }
    };
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(1 << 20);
      throw new Error('snapshot file vanished');
    }
    const snap = message(MessageType.Snap, A, B, { snapshot: { index: 5, term: 1, confState: { voters: [A, B], learners: [] } } });
    try {
      await a.transport.sendSnapshot(snap, broken());
      expect.fail('sendSnapshot resolved');
    } catch (err) {
      expect((err as Error).message).to.match(/snapshot file vanished/);
    }
    await waitUntil(() => receiverError !== undefined, 'the receiver saw the stream break');
    expect(receiverError!.message).to.match(/broke off/);
    expect(a.transport.metrics().snapshotsFailed).to.equal(1);
  });

  it('rejects an in-flight snapshot when the sender stops', async () => {
    const a = await member(A);
    const b = await member(B);
    b.handler.receiveSnapshot = () => new Promise(() => undefined);
    const snap = message(MessageType.Snap, A, B, { snapshot: { index: 5, term: 1, confState: { voters: [A, B], learners: [] } } });
    const sending = a.transport.sendSnapshot(snap, new LazySnapshot(1 << 20).stream());
    await waitUntil(() => b.handler.snapshots.length === 1, 'the snapshot began');
    await a.transport.stop();
    try {
      await sending;
      expect.fail('sendSnapshot resolved after stop');
    } catch (err) {
      expect((err as Error).message).to.match(/snapshot to bbbbbbbbbbbbbbbb/);
    }
  });

  it('refuses to listen on a taken address with the address in the error', async () => {
    await member(A);
    const second = new TcpTransport({ listen: `127.0.0.1:${ports[0]}`, clusterId: 'cluster-1' });
    try {
      await second.start(A, new RecordingHandler());
      expect.fail('listened twice on one port');
    } catch (err) {
      expect((err as Error).message).to.equal(`TcpTransport: cannot listen on 127.0.0.1:${ports[0]}: EADDRINUSE`);
    }
    await second.stop();
  });
});

describe('peer addresses', () => {
  it('accepts tcp://, http:// and bare host:port, IPv6 included', () => {
    expect(parsePeerAddress('tcp://127.0.0.1:2380')).to.deep.equal({ host: '127.0.0.1', port: 2380 });
    expect(parsePeerAddress('http://127.0.0.1:2380/')).to.deep.equal({ host: '127.0.0.1', port: 2380 });
    expect(parsePeerAddress('https://127.0.0.1:2380')).to.deep.equal({ host: '127.0.0.1', port: 2380 });
    expect(parsePeerAddress('localhost:12380')).to.deep.equal({ host: 'localhost', port: 12380 });
    expect(parsePeerAddress('[::1]:2380')).to.deep.equal({ host: '::1', port: 2380 });
  });

  it('refuses other schemes, a missing port and paths', () => {
    expect(() => parsePeerAddress('wss://127.0.0.1:2380')).to.throw(/scheme wss is not served/);
    expect(() => parsePeerAddress('nats://127.0.0.1:4222')).to.throw(/scheme nats/);
    expect(() => parsePeerAddress('tcp://127.0.0.1')).to.throw(/no port/);
    expect(() => parsePeerAddress('http://127.0.0.1:2380/peers')).to.throw(/no path/);
  });
});

describe('@cairn/transport-tcp plugin', () => {
  const context = (listenPeerUrls: string[]): PluginContext =>
    pluginContext('/nonexistent', { memberId: '0000000000000001', ports: ['transport'], listenPeerUrls });
  const defaults = { queueSize: 4096, reconnectInitialMs: 50, reconnectMaxMs: 2000, maxFrameBytes: 64 << 20, snapshotChunkBytes: 256 << 10 };

  it('declares the transport port and an options schema with defaults', () => {
    expect(plugin.manifest.name).to.equal('@cairn/transport-tcp');
    expect(plugin.manifest.provides).to.deep.equal(['transport']);
    const properties = plugin.manifest.optionsSchema['properties'] as Record<string, { default?: unknown; type: string }>;
    expect(properties['listen']!.type).to.equal('string');
    expect(properties['queueSize']).to.include({ type: 'integer', default: 4096 });
  });

  it('binds TRANSPORT to a TcpTransport listening on the option or on --listen-peer-urls', async () => {
    const [port] = await freeLoopbackPorts(1);
    for (const [options, peerUrls] of [
      [{ ...defaults, listen: `127.0.0.1:${port}` }, []],
      [defaults, [`http://127.0.0.1:${port}`]],
    ] as const) {
      const container = new Container();
      await container.load(plugin.createModule(options, context([...peerUrls])));
      const transport = container.get<Transport>(TRANSPORT);
      expect(transport).to.be.instanceOf(TcpTransport);
      await transport.start(A, new RecordingHandler());
      expect((transport as TcpTransport).boundAddress()).to.equal(`127.0.0.1:${port}`);
      await transport.stop();
    }
  });

  it("resolves TRANSPORT in a container holding what the core binds to one TcpTransport, logging through the plugin's logger", async () => {
    const [port] = await freeLoopbackPorts(1);
    const coreLogger = new MemoryLogger();
    const container = pluginTestContainer({ logger: coreLogger });
    const chosen = context([`http://127.0.0.1:${port}`]);
    await container.loadAsync(plugin.createModule(defaults, chosen));
    const transport = container.get<Transport>(TRANSPORT);
    expect(transport).to.be.instanceOf(TcpTransport);
    expect(container.get(TRANSPORT)).to.equal(transport);
    await transport.start(A, new RecordingHandler());
    await transport.stop();
    const logged = (chosen.logger as MemoryLogger).lines().map((l) => l.message);
    expect(logged).to.include.members(['peer transport listening', 'peer transport stopped']);
    expect(coreLogger.lines()).to.deep.equal([]);
  });

  it('refuses to build without any listen address', () => {
    expect(() => plugin.createModule(defaults, context([]))).to.throw(/no listen address/);
  });

  it('refuses peer URLs it cannot reach, naming the setting: nats:// ones belong to @cairn/transport-nats', () => {
    const withCluster = (initialCluster: [string, string[]][], advertisePeerUrls: string[] = []): PluginContext =>
      pluginContext('/nonexistent', {
        ports: ['transport'],
        listenPeerUrls: ['http://127.0.0.1:2380'],
        initialCluster: new Map(initialCluster),
        advertisePeerUrls,
      });
    expect(() =>
      plugin.createModule(
        defaults,
        withCluster([
          ['n1', ['http://127.0.0.1:2380']],
          ['n2', ['nats://n2']],
        ]),
      ),
    ).to.throw(
      'initial-cluster: n2=nats://n2 is not a TCP peer URL (nats:// peer URLs name subjects of @cairn/transport-nats: choose it under plugins.transport)',
    );
    expect(() => plugin.createModule(defaults, withCluster([['n1', ['wss://127.0.0.1:2380']]]))).to.throw(
      'initial-cluster: n1=wss://127.0.0.1:2380 is not a TCP peer URL (give http://host:port or tcp://host:port)',
    );
    // A joining member that the initial cluster does not name is known by its advertised URLs.
    expect(() => plugin.createModule(defaults, withCluster([['n2', ['tcp://127.0.0.1:2381']]], ['nats://n1']))).to.throw(
      /^initial-advertise-peer-urls: nats:\/\/n1 is not/,
    );
    expect(() => plugin.createModule(defaults, withCluster([['n1', ['http://localhost:2380', 'tcp://[::1]:2381']]], ['nats://unused']))).to.not.throw();
  });
});
