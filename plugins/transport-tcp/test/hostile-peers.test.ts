import { expect } from 'chai';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Registry } from 'prom-client';
import { MessageType } from '@cairn/core';
import { largeAppend, MemoryLogger, message, RecordingHandler, waitUntil } from '@cairn/core/testkit';
import { FRAME_HEADER_BYTES, FrameDecoder, FrameType } from '../src/frame.js';
import { ConnectionKind, PROTOCOL_VERSION } from '../src/handshake.js';
import { PeerNetworkMetrics } from '../src/peer-network-metrics.js';
import { TcpTransport, type TcpTransportOptions } from '../src/tcp-transport.js';
import { decodeHello, encodeHelloFrame, encodeMessageFrame, encodeWelcomeFrame } from '../src/wire-codec.js';
import { freeLoopbackPorts } from './loopback-ports.js';

const A = 'aaaaaaaaaaaaaaaa';
const B = 'bbbbbbbbbbbbbbbb';
const CLUSTER = 'c0ffee0000000001';
const READ_TIMEOUT_MS = 300;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What became of a raw connection: when the listener closed it (ms after connecting), or undefined if it was still open at `giveUpMs`. */
function rawConnection(port: number, bytes: readonly Buffer[], giveUpMs: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    let began = 0;
    const socket = connect({ host: '127.0.0.1', port }, () => {
      began = Date.now();
      for (const b of bytes) socket.write(b);
    });
    const giveUp = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, giveUpMs);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(giveUp);
      resolve(Date.now() - began);
    });
  });
}

/** A frame header announcing `bodyBytes` (checksum zero: the listener must refuse on the length alone). */
function frameHeader(bodyBytes: number): Buffer {
  const head = Buffer.alloc(FRAME_HEADER_BYTES);
  head.writeUInt32BE(bodyBytes, 0);
  return head;
}

const hello = (clusterId = CLUSTER): Buffer => encodeHelloFrame({ version: PROTOCOL_VERSION, kind: ConnectionKind.Messages, clusterId, from: A, to: B });

/** The counter `cairn_network_peer_refused_connections_total{reason}` as the registry shows it. */
async function refusedMetric(registry: Registry, reason: string): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === 'cairn_network_peer_refused_connections_total');
  const value = (metric?.values as { labels: Record<string, string>; value: number }[] | undefined)?.find((v) => v.labels['reason'] === reason);
  return value?.value ?? 0;
}

describe('TcpTransport: hostile and broken peers on the peer port', () => {
  let port: number;
  let transport: TcpTransport;
  let handler: RecordingHandler;
  let logger: MemoryLogger;
  let registry: Registry;

  beforeEach(async () => {
    [port] = (await freeLoopbackPorts(1)) as [number];
    logger = new MemoryLogger({ level: 'debug' });
    const network = new PeerNetworkMetrics();
    registry = new Registry();
    network.register(registry);
    transport = new TcpTransport({ listen: `127.0.0.1:${port}`, clusterId: CLUSTER, readTimeoutMs: READ_TIMEOUT_MS }, logger, network);
    handler = new RecordingHandler();
    transport.setPeers(new Map([[A, ['tcp://127.0.0.1:1']]]));
    await transport.start(B, handler);
  });
  afterEach(async () => {
    await transport.stop();
  });

  it('closes connections that never complete a Hello after the read timeout, counts each, logs once', async () => {
    const partialHello = hello().subarray(0, 12);
    const closedAfter = await Promise.all([
      ...Array.from({ length: 10 }, () => rawConnection(port, [], 5_000)),
      ...Array.from({ length: 10 }, () => rawConnection(port, [partialHello], 5_000)),
    ]);
    for (const ms of closedAfter)
      expect(ms)
        .to.be.a('number')
        .and.within(READ_TIMEOUT_MS - 20, READ_TIMEOUT_MS + 1_000);
    expect(transport.metrics().refusedConnections).to.equal(20);
    expect(await refusedMetric(registry, 'handshake_timeout')).to.equal(20);
    expect(logger.find('dropped a peer connection that sent no handshake in time')).to.have.length(1);
  });

  it('refuses a frame header announcing more than a Hello at once, before buffering any of it', async () => {
    for (const announced of [0xffffffff, 64 << 20, 1 << 20, 17 * 1024]) {
      const ms = await rawConnection(port, [frameHeader(announced)], 5_000);
      expect(ms, `a header announcing ${announced} bytes`).to.be.a('number').and.below(READ_TIMEOUT_MS);
    }
    expect(await refusedMetric(registry, 'oversized_frame')).to.equal(4);
    const lines = logger.find('dropped a peer connection that announced an oversized frame');
    expect(lines).to.have.length(1);
    expect(String(lines[0]!.fields['reason'])).to.equal('frame length 4294967295 outside 1..16384');
  });

  it('drops a member that stops in the middle of a frame, but not one that is idle between frames', async () => {
    const frame = encodeMessageFrame(message(MessageType.App, A, B, { index: 1, entries: [] }));
    const truncated = rawConnection(port, [hello(), frame, frame.subarray(0, frame.byteLength - 3)], 5_000);
    const idle = rawConnection(port, [hello(), frame], 3 * READ_TIMEOUT_MS);
    expect(await truncated)
      .to.be.a('number')
      .and.within(READ_TIMEOUT_MS - 20, READ_TIMEOUT_MS + 1_000);
    expect(await idle, 'an idle member connection was closed').to.equal(undefined);
    expect(handler.messages).to.have.length(2);
    expect(await refusedMetric(registry, 'truncated_frame')).to.equal(1);
  });

  it('refuses a valid Hello of another cluster, counts every one and logs the first of a burst', async () => {
    const closed = await Promise.all(Array.from({ length: 5 }, () => rawConnection(port, [hello('0ther0c1u5ter000')], 10_000)));
    // The connector is told and hangs up (rawConnection does not): the listener lingers, then closes.
    for (const ms of closed) expect(ms).to.be.a('number');
    expect(await refusedMetric(registry, 'handshake_refused')).to.equal(5);
    const lines = logger.find('refused a peer connection');
    expect(lines).to.have.length(1);
    expect(String(lines[0]!.fields['reason'])).to.match(/cluster ID mismatch: member aaaaaaaaaaaaaaaa is in cluster 0ther0c1u5ter000/);
    expect(handler.messages).to.have.length(0);
  });
});

describe('TcpTransport: what it holds for a dead peer', () => {
  const QUEUE_BYTES = 4 << 20;
  const RELEASE_MS = 400;
  const running: TcpTransport[] = [];
  const servers: Server[] = [];
  /** Connections the fake peers accepted: destroyed after each test, or their servers would never close. */
  const accepted: Socket[] = [];

  afterEach(async () => {
    for (const t of running.splice(0)) await t.stop();
    for (const socket of accepted.splice(0)) socket.destroy();
    for (const s of servers.splice(0)) await new Promise<void>((resolve) => s.close(() => resolve()));
  });

  async function sender(peerPort: number, options: Partial<TcpTransportOptions> = {}): Promise<{ transport: TcpTransport; logger: MemoryLogger }> {
    const [own] = await freeLoopbackPorts(1);
    const logger = new MemoryLogger({ level: 'debug' });
    const transport = new TcpTransport(
      {
        listen: `127.0.0.1:${own}`,
        clusterId: CLUSTER,
        queueBytes: QUEUE_BYTES,
        releaseQueueAfterMs: RELEASE_MS,
        readTimeoutMs: READ_TIMEOUT_MS,
        writeTimeoutMs: READ_TIMEOUT_MS,
        reconnect: { initialMs: 10, maxMs: 50 },
        ...options,
      },
      logger,
    );
    transport.setPeers(new Map([[B, [`tcp://127.0.0.1:${peerPort}`]]]));
    await transport.start(A, new RecordingHandler());
    running.push(transport);
    return { transport, logger };
  }

  /** Sends 256 KiB appends to B for `ms`, and returns the most bytes ever queued for B. */
  async function flood(transport: TcpTransport, ms: number): Promise<number> {
    let most = 0;
    const until = Date.now() + ms;
    while (Date.now() < until) {
      transport.send([largeAppend(A, B, 256 * 1024)]);
      most = Math.max(most, transport.queued(B).bytes);
      await sleep(5);
    }
    return most;
  }

  it('bounds the queue to a peer nobody listens for by bytes, and empties it once the peer stays down', async () => {
    const [nobody] = (await freeLoopbackPorts(1)) as [number];
    const { transport } = await sender(nobody);
    const most = await flood(transport, 3 * RELEASE_MS);
    const oneMessage = 256 * 1024 + 1024;
    expect(most)
      .to.be.above(0)
      .and.at.most(QUEUE_BYTES + oneMessage);
    await waitUntil(() => transport.queued(B).bytes === 0, 'the queue of the dead peer was released');
    expect(transport.metrics().dropped).to.be.above(0);
    expect(transport.metrics().sent).to.equal(0);
  });

  it('abandons a connection that is never welcomed (a listener that is not Cairn, a stopped process) and releases the queue', async () => {
    const closed: number[] = [];
    const silent = createServer((socket) => {
      const at = Date.now();
      accepted.push(socket);
      // Reads (and discards) everything, answers nothing.
      socket.on('data', () => undefined);
      socket.on('error', () => undefined);
      socket.on('close', () => closed.push(Date.now() - at));
    });
    servers.push(silent);
    const silentPort = await new Promise<number>((resolve) => silent.listen(0, '127.0.0.1', () => resolve((silent.address() as { port: number }).port)));
    const { transport, logger } = await sender(silentPort);
    const most = await flood(transport, 3 * RELEASE_MS);
    expect(most).to.be.at.most(QUEUE_BYTES + 256 * 1024 + 1024);
    await waitUntil(() => closed.length >= 2, 'the sender gave up on the silent listener and tried again');
    for (const ms of closed) expect(ms).to.be.below(READ_TIMEOUT_MS + 1_000);
    await waitUntil(() => transport.queued(B).bytes === 0, 'the queue was released');
    expect(logger.lines().some((l) => /no Welcome within 300 ms/.test(String(l.fields['reason'])))).to.equal(true);
  });

  it('closes the connection to a peer that welcomes and then reads nothing, after the write timeout', async () => {
    let firstWelcomeAt = 0;
    const stalled = createServer((socket) => {
      accepted.push(socket);
      socket.on('error', () => undefined);
      const decoder = new FrameDecoder(1 << 16);
      let welcomedAt = 0;
      socket.on('data', (chunk: Buffer) => {
        if (welcomedAt > 0) return;
        decoder.push(chunk, (frame) => {
          if (frame.type !== FrameType.Hello) return false;
          decodeHello(frame.payload);
          socket.write(encodeWelcomeFrame({ accepted: true, clusterId: CLUSTER, memberId: B, reason: '' }));
          welcomedAt = Date.now();
          firstWelcomeAt ||= welcomedAt;
          // From now on this peer reads nothing: its socket and the sender's fill up.
          socket.pause();
          return false;
        });
      });
    });
    servers.push(stalled);
    const stalledPort = await new Promise<number>((resolve) => stalled.listen(0, '127.0.0.1', () => resolve((stalled.address() as { port: number }).port)));
    const { transport, logger } = await sender(stalledPort, { releaseQueueAfterMs: 60_000 });
    const most = await flood(transport, 6 * READ_TIMEOUT_MS);
    expect(most).to.be.at.most(QUEUE_BYTES + 256 * 1024 + 1024);
    const lost = (): { time: number } | undefined => logger.lines().find((l) => /the peer read nothing for 300 ms/.test(String(l.fields['reason'])));
    await waitUntil(() => lost() !== undefined, 'the sender closed the stalled connection');
    // The sockets take a while to fill; then the write timeout runs.
    expect(lost()!.time - firstWelcomeAt).to.be.within(READ_TIMEOUT_MS, READ_TIMEOUT_MS + 3_000);
  });

  it('keeps the queue through a short outage: the messages go when the peer comes back', async () => {
    const [later] = (await freeLoopbackPorts(1)) as [number];
    const { transport } = await sender(later, { releaseQueueAfterMs: 10_000 });
    transport.send(Array.from({ length: 10 }, (_, i) => message(MessageType.App, A, B, { index: i + 1 })));
    await waitUntil(() => transport.metrics().reconnects >= 2, 'the sender retried');
    const b = new TcpTransport({ listen: `127.0.0.1:${later}`, clusterId: CLUSTER }, new MemoryLogger());
    const handler = new RecordingHandler();
    b.setPeers(new Map([[A, ['tcp://127.0.0.1:1']]]));
    await b.start(B, handler);
    running.push(b);
    await waitUntil(() => handler.messages.length === 10, 'the queued messages arrived');
    expect(transport.queued(B)).to.deep.equal({ messages: 0, bytes: 0 });
  });
});
