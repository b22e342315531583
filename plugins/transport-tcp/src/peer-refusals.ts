import { RateLimitedWarning, type CounterSeries, type LogFields, type Logger } from '@cairn/core';
import type { TransportMetrics } from './transport-metrics.js';

/**
 * Why the peer listener turned a connection away: the `reason` label of
 * `cairn_network_peer_refused_connections_total` (etcd has no such metric).
 */
export type PeerRefusalReason =
  /** A Hello from another cluster, protocol version or addressee. */
  | 'handshake_refused'
  /** No complete Hello within the read timeout (a slowloris, a port scanner, a stalled peer). */
  | 'handshake_timeout'
  /** A frame header announcing more than the connection allows. */
  | 'oversized_frame'
  /** Silence for the read timeout in the middle of a frame. */
  | 'truncated_frame'
  /** Bytes that are not Cairn's frames: bad checksum, type or payload, or a message of another sender. */
  | 'bad_frame'
  /** The TLS handshake failed (certificate of another CA, plain text on a TLS port...). */
  | 'tls_handshake';

export const PEER_REFUSAL_REASONS: readonly PeerRefusalReason[] = [
  'handshake_refused',
  'handshake_timeout',
  'oversized_frame',
  'truncated_frame',
  'bad_frame',
  'tls_handshake',
];

const MESSAGES: Readonly<Record<PeerRefusalReason, string>> = {
  handshake_refused: 'refused a peer connection',
  handshake_timeout: 'dropped a peer connection that sent no handshake in time',
  oversized_frame: 'dropped a peer connection that announced an oversized frame',
  truncated_frame: 'dropped a peer connection that stopped in the middle of a frame',
  bad_frame: 'dropped a peer connection that broke the wire format',
  tls_handshake: 'refused a peer connection at the TLS handshake',
};

/**
 * Counts and logs what the peer port refuses. Anyone who can reach the port can cause these, so
 * each reason is logged at most once per interval (the line after says how many were suppressed):
 * a flood of garbage cannot fill the disk, nor hide a refusal of another kind.
 */
export class PeerRefusals {
  private readonly warnings = new Map<PeerRefusalReason, RateLimitedWarning>();

  constructor(
    logger: Logger,
    private readonly counters: TransportMetrics,
    private readonly series?: (reason: PeerRefusalReason) => CounterSeries,
  ) {
    for (const reason of PEER_REFUSAL_REASONS) {
      this.warnings.set(reason, new RateLimitedWarning(logger, MESSAGES[reason]));
      // Every reason shows from the start, at zero.
      series?.(reason);
    }
  }

  refuse(reason: PeerRefusalReason, fields: LogFields): void {
    this.counters.refusedConnections++;
    if (this.series !== undefined) this.series(reason).value++;
    this.warnings.get(reason)!.warn(fields);
  }
}
