import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HealthService } from '@cairn/core';
import type { HealthEndpointMetrics } from './health-endpoint-metrics.js';
import { answer, goError, queryValues, refuseUnlessGet, TEXT_PLAIN, type Listener } from './http-answers.js';

/**
 * etcd's /health (3.5): `{"health":"true","reason":""}` with 200, or the same shape with
 * "false" and etcd's reason with 503. `?exclude=NOSPACE` (repeatable) ignores that alarm;
 * `?serializable=true` reads locally and needs no leader.
 */
export async function serveHealth(
  request: IncomingMessage,
  response: ServerResponse,
  query: URLSearchParams,
  health: HealthService,
  metrics: HealthEndpointMetrics,
  listener: Listener,
): Promise<void> {
  if (refuseUnlessGet(request, response, listener)) return;
  const verdict = await health.verdict({ excludedAlarms: queryValues(query, 'exclude'), serializable: query.get('serializable') === 'true' });
  metrics.health(verdict.healthy);
  const body = JSON.stringify({ health: String(verdict.healthy), reason: verdict.reason });
  if (verdict.healthy) answer(response, listener, 200, { 'Content-Type': TEXT_PLAIN }, body);
  else goError(response, listener, 503, body);
}
