import { expect } from 'chai';
import { Registry } from 'prom-client';
import { MessageType, type Transport } from '@cairn/core';
import { message, RecordingHandler, waitUntil } from '@cairn/core/testkit';
import { PeerNetworkMetrics } from '../src/peer-network-metrics.js';
import { TcpTransport } from '../src/tcp-transport.js';
import { freeLoopbackPorts } from './loopback-ports.js';

// Leading zeros, as member IDs may have: etcd prints IDs without them.
const A = '0aaaaaaaaaaaaaaa';
const B = 'bbbbbbbbbbbbbbbb';
const C = 'cccccccccccccccc';

/** The value of one series line (`name{labels}`) of a scrape; undefined when absent. */
const valueOf = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe("TcpTransport: etcd's peer network metrics", () => {
  let running: Transport[] = [];
  let ports: number[];

  beforeEach(async () => {
    ports = await freeLoopbackPorts(3);
  });

  afterEach(async () => {
    for (const t of running) await t.stop();
    running = [];
  });

  async function member(id: string, queueSize = 64): Promise<{ transport: TcpTransport; handler: RecordingHandler; registry: Registry }> {
    const registry = new Registry();
    const metrics = new PeerNetworkMetrics();
    metrics.register(registry);
    const transport = new TcpTransport(
      {
        listen: `127.0.0.1:${ports[[A, B, C].indexOf(id)]}`,
        clusterId: 'cluster-1',
        queueSize,
        reconnect: { initialMs: 10, maxMs: 100 },
        probeIntervalMs: 100,
      },
      undefined,
      metrics,
    );
    const handler = new RecordingHandler();
    transport.setPeers(new Map([A, B, C].map((m, i) => [m, [`tcp://127.0.0.1:${ports[i]}`]])));
    await transport.start(id, handler);
    running.push(transport);
    return { transport, handler, registry };
  }

  it('counts bytes each way by peer, marks the peer active, and measures the round trip by Ping and Pong', async () => {
    const a = await member(A);
    const b = await member(B);
    for (let i = 1; i <= 20; i++) a.transport.send([message(MessageType.App, A, B, { index: i, entries: [] })]);
    await waitUntil(() => b.handler.messages.length === 20, 'B has every message');
    // Two probes at least: one at connect, one an interval later.
    await new Promise((r) => setTimeout(r, 250));
    const fromA = await a.registry.metrics();
    const sent = valueOf(fromA, 'etcd_network_peer_sent_bytes_total{To="bbbbbbbbbbbbbbbb"}');
    expect(sent).to.be.greaterThan(20 * 9);
    expect(valueOf(fromA, 'etcd_network_active_peers{Local="aaaaaaaaaaaaaaa",Remote="bbbbbbbbbbbbbbbb"}')).to.equal(1);
    const probes = valueOf(fromA, 'etcd_network_peer_round_trip_time_seconds_count{To="bbbbbbbbbbbbbbbb"}');
    expect(probes).to.be.at.least(2);
    expect(valueOf(fromA, 'etcd_network_peer_round_trip_time_seconds_bucket{To="bbbbbbbbbbbbbbbb",le="3.2768"}')).to.equal(probes);
    expect(valueOf(fromA, 'etcd_network_peer_round_trip_time_seconds_sum{To="bbbbbbbbbbbbbbbb"}')).to.be.greaterThan(0);
    expect(fromA).to.include('# HELP etcd_network_peer_round_trip_time_seconds Round-Trip-Time histogram between peers');
    expect(valueOf(fromA, 'etcd_network_peer_sent_failures_total{To="bbbbbbbbbbbbbbbb"}')).to.equal(0);
    // B counts what arrived on A's connection: the messages (and A's pings), not less than A sent.
    const atB = await b.registry.metrics();
    expect(valueOf(atB, 'etcd_network_peer_received_bytes_total{From="aaaaaaaaaaaaaaa"}')).to.be.at.least(sent!);
  });

  it('connects to every known peer within a probe interval, with nothing to send (as etcd keeps a stream to each peer)', async () => {
    const a = await member(A);
    await member(B);
    for (let i = 0; i < 100; i++) {
      const text = await a.registry.metrics();
      if ((valueOf(text, 'etcd_network_peer_round_trip_time_seconds_count{To="bbbbbbbbbbbbbbbb"}') ?? 0) > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const text = await a.registry.metrics();
    expect(valueOf(text, 'etcd_network_active_peers{Local="aaaaaaaaaaaaaaa",Remote="bbbbbbbbbbbbbbbb"}')).to.equal(1);
    expect(valueOf(text, 'etcd_network_peer_round_trip_time_seconds_count{To="bbbbbbbbbbbbbbbb"}')).to.be.at.least(1);
    expect(a.transport.metrics().sent).to.equal(0);
  });

  it('counts messages it cannot deliver as send failures to that peer, and a lost connection as a disconnect', async () => {
    const a = await member(A, 2);
    const b = await member(B);
    a.transport.send([message(MessageType.Heartbeat, A, B)]);
    await waitUntil(() => b.handler.messages.length === 1, 'B is reached');
    // C never started: its queue (2) fills while the link retries; the rest is dropped.
    a.transport.send(Array.from({ length: 10 }, () => message(MessageType.Heartbeat, A, C)));
    const text = await a.registry.metrics();
    expect(valueOf(text, 'etcd_network_peer_sent_failures_total{To="cccccccccccccccc"}')).to.equal(8);
    expect(valueOf(text, 'etcd_network_active_peers{Local="aaaaaaaaaaaaaaa",Remote="cccccccccccccccc"}')).to.equal(undefined);

    await b.transport.stop();
    for (let i = 0; i < 100; i++) {
      const now = await a.registry.metrics();
      if (valueOf(now, 'etcd_network_active_peers{Local="aaaaaaaaaaaaaaa",Remote="bbbbbbbbbbbbbbbb"}') === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const after = await a.registry.metrics();
    expect(valueOf(after, 'etcd_network_active_peers{Local="aaaaaaaaaaaaaaa",Remote="bbbbbbbbbbbbbbbb"}')).to.equal(0);
    expect(valueOf(after, 'etcd_network_disconnected_peers_total{Local="aaaaaaaaaaaaaaa",Remote="bbbbbbbbbbbbbbbb"}')).to.equal(1);
  });
});
