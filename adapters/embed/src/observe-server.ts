import { serveObserve as serveObserveStream, servicesAs, type CairnServices, type CallerCredentials, type WireLeaderRequest } from '@cairn/core';
import type { InProcessStream } from './in-process-stream.js';

/** Election.Observe, served by the core's logic; the client's cancel stops the service's iteration. */
export function serveObserve(services: CairnServices, stream: InProcessStream, request: WireLeaderRequest, credentials: CallerCredentials): Promise<void> {
  const stop = new AbortController();
  stream.onClose(() => stop.abort());
  return serveObserveStream(servicesAs(services, credentials), request, stream, stop.signal);
}
