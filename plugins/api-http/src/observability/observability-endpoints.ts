import type { IncomingMessage, ServerResponse } from 'node:http';
import { inject, injectable } from 'inversify';
import { ETCD_API_VERSION, type CairnServices } from '@cairn/core';
import { checkPath, hasCheck, serveChecks } from './check-endpoints.js';
import { serveHealth } from './health-endpoint.js';
import { HealthEndpointMetrics } from './health-endpoint-metrics.js';
import { answer, goError, type Listener } from './http-answers.js';

/** etcd's cluster version is the server's major.minor.0. */
const CLUSTER_VERSION = `${ETCD_API_VERSION.split('.').slice(0, 2).join('.')}.0`;

/**
 * etcd's observability paths: /health, /livez, /readyz (and their check sub-paths), /metrics,
 * and on the client port /version. Takes a request when its path is one of them and the member
 * has what it needs (health checks, metrics); leaves every other request alone.
 */
@injectable()
export class ObservabilityEndpoints {
  constructor(@inject(HealthEndpointMetrics) private readonly metrics: HealthEndpointMetrics) {}

  serve(request: IncomingMessage, response: ServerResponse, services: CairnServices, listener: Listener): boolean {
    const url = new URL(request.url ?? '/', 'http://member');
    const { pathname, searchParams: query } = url;
    const { health, metrics } = services;
    let answered: Promise<void>;
    if (pathname === '/health' && health !== undefined) {
      answered = serveHealth(request, response, query, health, this.metrics, listener);
    } else if (pathname === '/metrics' && metrics !== undefined) {
      answered = metrics.text().then((text) => answer(response, listener, 200, { 'Content-Type': metrics.contentType }, text));
    } else if (pathname === '/version' && listener === 'client') {
      if (request.method !== 'GET') {
        goError(response, listener, 405, 'Method Not Allowed', { Allow: 'GET' });
        return true;
      }
      answered = Promise.resolve(
        answer(response, listener, 200, { 'Content-Type': 'application/json' }, JSON.stringify({ etcdserver: ETCD_API_VERSION, etcdcluster: CLUSTER_VERSION })),
      );
    } else {
      const target = checkPath(pathname);
      if (target === undefined || health === undefined || (target.check !== undefined && !hasCheck(health, target.endpoint, target.check))) return false;
      answered = serveChecks(request, response, query, target, health, this.metrics, listener);
    }
    answered.catch((err: unknown) => {
      if (response.headersSent) response.destroy();
      else goError(response, listener, 500, err instanceof Error ? err.message : String(err));
    });
    return true;
  }
}
