import type { IncomingMessage, ServerResponse } from 'node:http';
import { inject, injectable } from 'inversify';
import type { CairnServices, ClientHttpRoute } from '@cairn/core';
import { ObservabilityEndpoints } from './observability-endpoints.js';

/** /health, /livez, /readyz, /version and /metrics on the client port, beside gRPC and the gateway, as etcd serves them. */
@injectable()
export class ObservabilityRoute implements ClientHttpRoute {
  constructor(@inject(ObservabilityEndpoints) private readonly endpoints: ObservabilityEndpoints) {}

  serve(request: IncomingMessage, response: ServerResponse, services: CairnServices): boolean {
    return this.endpoints.serve(request, response, services, 'client');
  }
}
