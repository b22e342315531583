import { injectable } from 'inversify';
import { Gauge, type Registry } from 'prom-client';
import {
  CounterFamily,
  exponentialBuckets,
  HistogramFamily,
  memberIdLabel,
  type CounterSeries,
  type HistogramSeries,
  type MetricsCollector,
} from '@cairn/core';

/** What a link to one peer records: looked up once per link, then only numbers are bumped. */
export interface PeerLinkSeries {
  readonly sentBytes: CounterSeries;
  readonly sentFailures: CounterSeries;
  readonly roundTrip: HistogramSeries;
  /** The outbound connection to the peer completed its handshake, or was lost after that. */
  connected(): void;
  disconnected(): void;
}

/**
 * etcd's peer network metrics (rafthttp's), under its names, help and label names (`To`, `From`,
 * `Local`, `Remote`: member IDs in hex as etcd prints them), for the TCP transport's links.
 */
@injectable()
export class PeerNetworkMetrics implements MetricsCollector {
  private readonly sentBytes = new CounterFamily<'To'>({
    name: 'etcd_network_peer_sent_bytes_total',
    help: 'The total number of bytes sent to peers.',
    labelNames: ['To'],
  });
  private readonly receivedBytes = new CounterFamily<'From'>({
    name: 'etcd_network_peer_received_bytes_total',
    help: 'The total number of bytes received from peers.',
    labelNames: ['From'],
  });
  private readonly sentFailures = new CounterFamily<'To'>({
    name: 'etcd_network_peer_sent_failures_total',
    help: 'The total number of send failures from peers.',
    labelNames: ['To'],
  });
  private readonly roundTrip = new HistogramFamily<'To'>({
    name: 'etcd_network_peer_round_trip_time_seconds',
    help: 'Round-Trip-Time histogram between peers',
    labelNames: ['To'],
    // 0.1 ms to 3.2768 s, doubling.
    buckets: exponentialBuckets(0.0001, 2, 16),
  });
  // Cairn's own (etcd has none): connections the peer listener turned away, by reason.
  private readonly refusals = new CounterFamily<'reason'>({
    name: 'cairn_network_peer_refused_connections_total',
    help: 'The total number of peer connections refused or dropped: a failed handshake, a timeout, or bytes that are not Cairn frames.',
    labelNames: ['reason'],
  });
  private readonly disconnects = new CounterFamily<'Local' | 'Remote'>({
    name: 'etcd_network_disconnected_peers_total',
    help: 'The total number of disconnected peers.',
    labelNames: ['Local', 'Remote'],
  });
  // Set only when a connection opens or closes: prom-client's own gauge is cheap enough for that.
  private readonly activePeers = new Gauge({
    name: 'etcd_network_active_peers',
    help: 'The current number of active peer connections.',
    labelNames: ['Local', 'Remote'],
    registers: [],
  });

  register(registry: Registry): void {
    registry.registerMetric(this.activePeers);
    this.sentBytes.register(registry);
    this.receivedBytes.register(registry);
    this.sentFailures.register(registry);
    this.roundTrip.register(registry);
    this.disconnects.register(registry);
    this.refusals.register(registry);
  }

  /** Connections refused for `reason` (the `reason` label). */
  refused(reason: string): CounterSeries {
    return this.refusals.of({ reason });
  }

  /** The series of the link from `local` to `remote` (member IDs as the transport knows them). */
  link(local: string, remote: string): PeerLinkSeries {
    const labels = { Local: memberIdLabel(local), Remote: memberIdLabel(remote) };
    const to = { To: labels.Remote };
    const active = this.activePeers;
    const disconnects = this.disconnects.of(labels);
    let up = false;
    return {
      sentBytes: this.sentBytes.of(to),
      sentFailures: this.sentFailures.of(to),
      roundTrip: this.roundTrip.of(to),
      connected: () => {
        if (up) return;
        up = true;
        active.set(labels, 1);
      },
      disconnected: () => {
        if (!up) return;
        up = false;
        active.set(labels, 0);
        disconnects.inc();
      },
    };
  }

  /** Bytes arriving from member `from`. */
  receivedFrom(from: string): CounterSeries {
    return this.receivedBytes.of({ From: memberIdLabel(from) });
  }
}
