/**
 * Messages per second between two TcpTransports on loopback: App messages carrying one 1 KiB
 * entry, A → B, in one process (sender and receiver share a CPU, so this is a floor).
 *
 *   cd plugins/transport-tcp && node --conditions=source --import=tsx bench/message-throughput.ts [seconds] [window]
 *
 * `window` bounds messages sent but not yet received, so the queue never overflows and every
 * message counts.
 */
import { createServer, type AddressInfo } from 'node:net';
import { EntryType, MessageType, type Message } from '@cairn/core';
import { TcpTransport } from '../src/index.js';

const seconds = Number(process.argv[2] ?? 5);
const window = Number(process.argv[3] ?? 2000);
const A = 'aaaaaaaaaaaaaaaa';
const B = 'bbbbbbbbbbbbbbbb';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const [portA, portB] = [await freePort(), await freePort()];
const peers = new Map([
  [A, [`tcp://127.0.0.1:${portA}`]],
  [B, [`tcp://127.0.0.1:${portB}`]],
]);
const a = new TcpTransport({ listen: `127.0.0.1:${portA}`, clusterId: 'bench', queueSize: 4096 });
const b = new TcpTransport({ listen: `127.0.0.1:${portB}`, clusterId: 'bench', queueSize: 4096 });
let received = 0;
const noSnapshots = async (): Promise<void> => {
  throw new Error('no snapshots in this bench');
};
a.setPeers(peers);
b.setPeers(peers);
await a.start(A, { onMessage: () => undefined, onSnapshot: noSnapshots });
await b.start(B, {
  onMessage: () => {
    received++;
  },
  onSnapshot: noSnapshots,
});

const data = new Uint8Array(1024).fill(7);
let index = 0;
const next = (): Message => {
  index++;
  return {
    type: MessageType.App,
    from: A,
    to: B,
    term: 3,
    logTerm: 3,
    index,
    commit: index,
    entries: [{ index: index + 1, term: 3, type: EntryType.Normal, data }],
    reject: false,
    rejectHint: 0,
    context: new Uint8Array(0),
  };
};

const cpuStart = process.cpuUsage();
const started = performance.now();
const deadline = started + seconds * 1000;
let sent = 0;
while (performance.now() < deadline) {
  const room = window - (sent - received);
  if (room > 0) {
    const batch: Message[] = [];
    for (let i = 0; i < Math.min(room, 256); i++) batch.push(next());
    a.send(batch);
    sent += batch.length;
  }
  await new Promise((resolve) => setImmediate(resolve));
}
const elapsed = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuStart);
const metrics = a.metrics();
console.log(
  JSON.stringify({
    messageBytes: 1024,
    seconds: Number(elapsed.toFixed(2)),
    window,
    received,
    messagesPerSecond: Math.round(received / elapsed),
    mibPerSecond: Number(((received * 1024) / elapsed / 2 ** 20).toFixed(1)),
    dropped: metrics.dropped,
    cpuPercent: Math.round(((cpu.user + cpu.system) / 1e6 / elapsed) * 100),
  }),
);
await a.stop();
await b.stop();
