import { injectable } from 'inversify';
import type { MemberId } from '@cairn/core';

/** Traffic with one peer, as etcd's `etcd_network_peer_*` metrics count it. */
export interface PeerTraffic {
  sentBytes: number;
  /** Messages to the peer that were dropped (queue full, not connected, not publishable). */
  sentFailures: number;
  receivedBytes: number;
  /** Envelopes claiming to come from the peer that were refused (broken, another cluster, misaddressed). */
  receivedFailures: number;
}

/** Why an inbound envelope was refused. */
export type RefusalReason = 'malformed' | 'foreign-cluster' | 'misaddressed';

/**
 * The NATS transport's counters since it was created. The transport writes them; the metrics
 * collector reads them at scrape time; `NatsTransport.stats()` hands out a copy.
 */
@injectable()
export class NatsTransportStats {
  /** Raft messages published to peers. */
  sentMessages = 0;
  /** Raft messages dropped on the way out: queue full, unknown peer, not encodable, stopped. */
  droppedMessages = 0;
  /** Raft messages delivered to the handler. */
  receivedMessages = 0;
  /** Inbound envelopes refused, by reason. */
  readonly refused: Record<RefusalReason, number> = { malformed: 0, 'foreign-cluster': 0, misaddressed: 0 };
  /** Messages lost because some of their fragments were. */
  brokenFragmentedMessages = 0;
  /** Times the connection to NATS was lost. */
  disconnects = 0;
  /** Reconnects that succeeded (the client's own, and new connections after it gave up). */
  reconnects = 0;
  reconnectAttempts = 0;
  /** The member's subscription was closed by the server (e.g. a permissions reload) and made again. */
  resubscribes = 0;
  snapshotsSent = 0;
  snapshotsFailed = 0;
  snapshotsReceived = 0;
  snapshotsRefused = 0;
  /** Snapshot chunks sent again after a loss. */
  snapshotChunksResent = 0;
  snapshotSendsInFlight = 0;
  snapshotReceivesInFlight = 0;
  connectionState: 'connecting' | 'connected' | 'reconnecting' | 'closed' = 'connecting';
  /** The server the member is (or was last) connected to. */
  server = '';
  readonly peers = new Map<MemberId, PeerTraffic>();

  peer(id: MemberId): PeerTraffic {
    let traffic = this.peers.get(id);
    if (traffic === undefined) {
      traffic = { sentBytes: 0, sentFailures: 0, receivedBytes: 0, receivedFailures: 0 };
      this.peers.set(id, traffic);
    }
    return traffic;
  }

  dropped(peer: MemberId, count = 1): void {
    this.droppedMessages += count;
    this.peer(peer).sentFailures += count;
  }

  refuse(reason: RefusalReason, claimedSender: MemberId | undefined): void {
    this.refused[reason]++;
    if (claimedSender !== undefined && claimedSender !== '') this.peer(claimedSender).receivedFailures++;
  }
}

/** A plain copy of the counters (what `NatsTransport.stats()` returns). */
export type NatsTransportCounters = Omit<NatsTransportStats, 'peer' | 'dropped' | 'refuse' | 'peers' | 'refused'> & {
  readonly refused: Readonly<Record<RefusalReason, number>>;
  readonly peers: ReadonlyMap<MemberId, Readonly<PeerTraffic>>;
};

export function countersOf(stats: NatsTransportStats): NatsTransportCounters {
  return {
    ...stats,
    refused: { ...stats.refused },
    peers: new Map([...stats.peers].map(([id, t]) => [id, { ...t }])),
  };
}
