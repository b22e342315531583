/**
 * What one hop through NATS costs, in one process on loopback (sender and receiver share a CPU):
 *   - round trips of a Heartbeat and its HeartbeatResp between two NatsTransports through a
 *     nats-server this bench starts (and stops by PID): half a round trip is one hop;
 *   - the same ping-pong over a bare loopback TCP socket, the floor any TCP transport pays;
 *   - App messages with one 1 KiB entry per second, A → B, with at most `window` in flight.
 *
 *   cd plugins/transport-nats && node --conditions=source --import=tsx bench/hop-latency.ts [round trips] [seconds] [window]
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { EntryType, MessageType, type Message, type TransportHandler } from '@cairn/core';
import { NatsTransport } from '../src/index.js';
import { NatsServerProcess } from '../testing/index.js';

const roundTrips = Number(process.argv[2] ?? 5000);
const seconds = Number(process.argv[3] ?? 5);
const window = Number(process.argv[4] ?? 2000);
const A = 'aaaaaaaaaaaaaaaa';
const B = 'bbbbbbbbbbbbbbbb';

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
const summary = (label: string, rttMs: number[]): string => {
  const sorted = [...rttMs].sort((x, y) => x - y);
  const p50 = percentile(sorted, 0.5);
  return `${label}: round trip p50 ${p50.toFixed(3)} ms, p99 ${percentile(sorted, 0.99).toFixed(3)} ms; one hop ~${(p50 / 2).toFixed(3)} ms`;
};

function heartbeat(from: string, to: string, index: number, type = MessageType.Heartbeat): Message {
  return { type, from, to, term: 1, logTerm: 0, index, commit: 0, entries: [], reject: false, rejectHint: 0, context: new Uint8Array(0) };
}

// A nats-server of our own, stopped by its PID at the end.
const server = await NatsServerProcess.startAlone();

// Made before the try (they connect only at start), so the finally can stop them.
const peers = new Map([
  [A, ['nats://a']],
  [B, ['nats://b']],
]);
const options = { servers: [server.url], clusterToken: 'bench', clusterId: 'bench' };
const a = new NatsTransport({ ...options, listen: ['nats://a'] });
const b = new NatsTransport({ ...options, listen: ['nats://b'] });
try {
  const noSnapshots = async (): Promise<void> => {
    throw new Error('no snapshots in this bench');
  };
  let answered: (() => void) | undefined;
  let received = 0;
  const handlerA: TransportHandler = { onMessage: () => answered?.(), onSnapshot: noSnapshots };
  const handlerB: TransportHandler = {
    onMessage: (m) => {
      received++;
      if (m.type === MessageType.Heartbeat) b.send([heartbeat(B, A, m.index, MessageType.HeartbeatResp)]);
    },
    onSnapshot: noSnapshots,
  };
  a.setPeers(peers);
  b.setPeers(peers);
  await a.start(A, handlerA);
  await b.start(B, handlerB);

  const natsRtt: number[] = [];
  for (let i = 0; i < roundTrips; i++) {
    const began = performance.now();
    await new Promise<void>((resolve) => {
      answered = resolve;
      a.send([heartbeat(A, B, i)]);
    });
    natsRtt.push(performance.now() - began);
  }
  console.log(summary('NatsTransport through nats-server', natsRtt));

  // The floor: 64-byte ping-pong over one loopback TCP connection.
  const echo = createServer((socket) => socket.on('data', (d) => socket.write(d)));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const socket: Socket = connect((echo.address() as AddressInfo).port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise((resolve) => socket.once('connect', resolve));
  const tcpRtt: number[] = [];
  const ping = Buffer.alloc(64, 1);
  for (let i = 0; i < roundTrips; i++) {
    const began = performance.now();
    await new Promise<void>((resolve) => {
      socket.once('data', () => resolve());
      socket.write(ping);
    });
    tcpRtt.push(performance.now() - began);
  }
  socket.destroy();
  echo.close();
  console.log(summary('bare TCP socket (the floor)', tcpRtt));

  // Throughput: App messages with a 1 KiB entry, at most `window` unreceived.
  const data = new Uint8Array(1024).fill(7);
  let sent = 0;
  received = 0;
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    const batch: Message[] = [];
    while (sent - received < window && batch.length < 256) {
      sent++;
      batch.push({ ...heartbeat(A, B, sent, MessageType.App), entries: [{ index: sent, term: 1, type: EntryType.Normal, data }] });
    }
    if (batch.length > 0) a.send(batch);
    await new Promise((r) => setImmediate(r));
  }
  console.log(`App messages (1 KiB entry), A → B: ${Math.round(received / seconds)} per second`);
} finally {
  await a.stop();
  await b.stop();
  await server.stop();
}
