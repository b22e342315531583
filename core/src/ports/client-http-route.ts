import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CairnServices } from '../api/services.js';

/**
 * A contribution point: HTTP/1.x requests arriving on a member's client ports (the ones that are
 * not gRPC: etcd serves its JSON gateway, /health and /metrics on the same port as gRPC). The
 * frontend that owns the client port asks every ClientHttpRoute bound to CLIENT_HTTP_ROUTE
 * (multi-injected), in binding order, until one takes the request; nobody taking it is a 404.
 */
export interface ClientHttpRoute {
  /**
   * Take the request and answer it (now or later), returning true; or return false, having
   * written nothing, when the path is not this route's. `services` are the ones the frontend serves.
   */
  serve(request: IncomingMessage, response: ServerResponse, services: CairnServices): boolean;
}

export const CLIENT_HTTP_ROUTE = Symbol.for('cairn.contribution.ClientHttpRoute');
