import { injectable } from 'inversify';
import type { Registry } from 'prom-client';
import { CounterFamily, type CounterSeries, type MetricsCollector } from '@cairn/core';

/** Every reason a client port closes a connection before serving it (the `reason` label). */
export const CLIENT_REFUSAL_REASONS = [
  /** No TLS ClientHello, HTTP/2 preface and first frame, or first HTTP/1 bytes within the handshake timeout. */
  'handshake_timeout',
  /** HTTP/1 request headers not complete within the handshake timeout. */
  'headers_timeout',
  /** An HTTP/1 request the parser refused. */
  'bad_request',
  'tls_on_plain_port',
  'plain_on_tls_port',
  'tls_handshake',
] as const;

export type ClientPortRefusal = (typeof CLIENT_REFUSAL_REASONS)[number];

/**
 * Connections the client ports closed before serving them, by reason, as
 * `cairn_client_refused_connections_total` (etcd has no such metric: Go's servers close them
 * silently). One instance per member, however many gRPC frontends it runs.
 */
@injectable()
export class ClientPortMetrics implements MetricsCollector {
  private readonly refusals = new CounterFamily<'reason'>({
    name: 'cairn_client_refused_connections_total',
    help: 'The total number of client connections closed before they were served: a handshake not completed in time, an unparsable request, or the wrong protocol for the port.',
    labelNames: ['reason'],
  });
  private readonly series = new Map<ClientPortRefusal, CounterSeries>();

  constructor() {
    // Every reason shows from the start, at zero.
    for (const reason of CLIENT_REFUSAL_REASONS) this.series.set(reason, this.refusals.of({ reason }));
  }

  register(registry: Registry): void {
    this.refusals.register(registry);
  }

  refused(reason: ClientPortRefusal): void {
    this.series.get(reason)!.value++;
  }
}
