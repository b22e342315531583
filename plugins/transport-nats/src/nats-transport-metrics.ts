import { inject, injectable } from 'inversify';
import { Counter, Gauge, type Registry } from 'prom-client';
import { memberIdLabel, type MetricsCollector } from '@cairn/core';
import { NatsTransportStats, type PeerTraffic, type RefusalReason } from './nats-transport-stats.js';

const CONNECTION_STATES = ['connecting', 'connected', 'reconnecting', 'closed'] as const;

/**
 * The transport's counters as Prometheus metrics, read at scrape time (the hot path only bumps
 * numbers): etcd's `etcd_network_*` names, help and labels where the meaning carries over (bytes
 * and failures per peer, member IDs as etcd prints them; snapshot successes, failures and
 * in-flight transfers), and `cairn_nats_*` for what only NATS has (the connection's state and
 * server, disconnects, reconnects, re-subscriptions, refused envelopes). etcd's per-connection
 * metrics (active peers, round-trip time) have no counterpart: members share one connection to
 * NATS and never connect to each other.
 */
@injectable()
export class NatsTransportMetrics implements MetricsCollector {
  constructor(@inject(NatsTransportStats) private readonly stats: NatsTransportStats) {}

  register(registry: Registry): void {
    const stats = this.stats;
    const perPeer = (name: string, help: string, label: 'To' | 'From', field: keyof PeerTraffic): void => {
      new Counter({
        name,
        help,
        labelNames: [label],
        registers: [registry],
        collect() {
          this.reset();
          for (const [peer, traffic] of stats.peers) this.inc({ [label]: memberIdLabel(peer) }, traffic[field]);
        },
      });
    };
    perPeer('etcd_network_peer_sent_bytes_total', 'The total number of bytes sent to peers.', 'To', 'sentBytes');
    perPeer('etcd_network_peer_received_bytes_total', 'The total number of bytes received from peers.', 'From', 'receivedBytes');
    perPeer('etcd_network_peer_sent_failures_total', 'The total number of send failures from peers.', 'To', 'sentFailures');
    perPeer('etcd_network_peer_received_failures_total', 'The total number of receive failures from peers.', 'From', 'receivedFailures');
    const total = (name: string, help: string, read: () => number): void => {
      new Counter({
        name,
        help,
        registers: [registry],
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    };
    total('etcd_network_snapshot_send_success', 'Total number of successful snapshot sends.', () => stats.snapshotsSent);
    total('etcd_network_snapshot_send_failures', 'Total number of snapshot send failures.', () => stats.snapshotsFailed);
    total('etcd_network_snapshot_receive_success', 'Total number of successful snapshot receives.', () => stats.snapshotsReceived);
    total('etcd_network_snapshot_receive_failures', 'Total number of snapshot receive failures.', () => stats.snapshotsRefused);
    const inFlight = (name: string, help: string, read: () => number): void => {
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(read());
        },
      });
    };
    inFlight('etcd_network_snapshot_send_inflights_total', 'Total number of snapshot sends that are in flight.', () => stats.snapshotSendsInFlight);
    inFlight('etcd_network_snapshot_receive_inflights_total', 'Total number of snapshot receives that are in flight.', () => stats.snapshotReceivesInFlight);

    new Gauge({
      name: 'cairn_nats_connection_state',
      help: "The peer transport's NATS connection: 1 for its current state, 0 for the others.",
      labelNames: ['state'],
      registers: [registry],
      collect() {
        for (const state of CONNECTION_STATES) this.set({ state }, stats.connectionState === state ? 1 : 0);
      },
    });
    new Gauge({
      name: 'cairn_nats_server_info',
      help: 'The NATS server the peer transport is (or was last) connected to: 1, labelled with its URL.',
      labelNames: ['server'],
      registers: [registry],
      collect() {
        this.reset();
        if (stats.server !== '') this.set({ server: stats.server }, 1);
      },
    });
    total('cairn_nats_reconnects_total', 'Times the peer transport got its NATS connection back after losing it.', () => stats.reconnects);
    total('cairn_nats_disconnects_total', 'Times the peer transport lost its NATS connection.', () => stats.disconnects);
    total('cairn_nats_resubscribes_total', 'Times the member subscription was made again after the server closed it.', () => stats.resubscribes);
    total(
      'cairn_nats_dropped_messages_total',
      'Raft messages dropped on the way out (queue full, unknown peer, not connected long enough).',
      () => stats.droppedMessages,
    );
    new Counter({
      name: 'cairn_nats_refused_messages_total',
      help: 'Messages on the member subject that were dropped: not a Cairn envelope, from another cluster, or for another member.',
      labelNames: ['reason'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [reason, count] of Object.entries(stats.refused) as [RefusalReason, number][]) this.inc({ reason }, count);
      },
    });
  }
}
