/** Counters a TcpTransport keeps since it was created; read them with `TcpTransport.metrics()`. */
export interface TransportMetrics {
  /** Messages written to a peer connection. */
  sent: number;
  /** Messages dropped: queue full, unknown peer, not encodable, or transport stopped. */
  dropped: number;
  /** Connection attempts after a peer connection failed or closed. */
  reconnects: number;
  /** Messages received and handed to the handler. */
  received: number;
  /** Inbound connections dropped for bad frames or a refused handshake. */
  refusedConnections: number;
  snapshotsSent: number;
  snapshotsFailed: number;
  snapshotsReceived: number;
}

export const emptyMetrics = (): TransportMetrics => ({
  sent: 0,
  dropped: 0,
  reconnects: 0,
  received: 0,
  refusedConnections: 0,
  snapshotsSent: 0,
  snapshotsFailed: 0,
  snapshotsReceived: 0,
});
