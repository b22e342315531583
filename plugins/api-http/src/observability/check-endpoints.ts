import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HealthService } from '@cairn/core';
import type { CheckEndpoint, HealthEndpointMetrics } from './health-endpoint-metrics.js';
import { answer, goError, queryValues, refuseUnlessGet, TEXT_PLAIN, type Listener } from './http-answers.js';

const KINDS: Readonly<Record<CheckEndpoint, 'liveness' | 'readiness'>> = { livez: 'liveness', readyz: 'readiness' };

/** `/livez`, `/readyz` and `/<endpoint>/<check>`: the endpoint and the one check named, if any; undefined for other paths. */
export function checkPath(pathname: string): { endpoint: CheckEndpoint; check?: string } | undefined {
  const match = /^\/(livez|readyz)(?:\/([^/]+))?$/.exec(pathname);
  if (match === null) return undefined;
  const endpoint = match[1] as CheckEndpoint;
  return match[2] === undefined ? { endpoint } : { endpoint, check: match[2] };
}

/** True when /`endpoint`/`check` exists (the endpoint runs a check of that name); etcd answers 404 otherwise. */
export function hasCheck(health: HealthService, endpoint: CheckEndpoint, check: string): boolean {
  return health.names(KINDS[endpoint]).includes(check);
}

/**
 * etcd's /livez and /readyz (3.5.11+): run the endpoint's named checks (all but those in
 * `?exclude=`, repeatable; on a sub-path just that one), count each, and answer as etcd's
 * etcdhttp does: `ok` (after the `[+]name ok` lines with `?verbose`) with 200, or with 503 the
 * lines of every check run, `[-]name failed: reason` for those that failed.
 */
export async function serveChecks(
  request: IncomingMessage,
  response: ServerResponse,
  query: URLSearchParams,
  target: { endpoint: CheckEndpoint; check?: string },
  health: HealthService,
  metrics: HealthEndpointMetrics,
  listener: Listener,
): Promise<void> {
  if (refuseUnlessGet(request, response, listener)) return;
  const selection = target.check === undefined ? { exclude: queryValues(query, 'exclude') } : { only: [target.check] };
  const result = await health.check(KINDS[target.endpoint], selection);
  let listing = '';
  for (const check of result.checks) {
    metrics.check(target.endpoint, check.name, check.healthy);
    listing += check.healthy ? `[+]${check.name} ok\n` : `[-]${check.name} failed: ${check.reason ?? 'unhealthy'}\n`;
  }
  // etcd always details a failure; a success only when asked to (`?verbose`, any value).
  if (!result.healthy) goError(response, listener, 503, listing);
  else answer(response, listener, 200, { 'Content-Type': TEXT_PLAIN, 'X-Content-Type-Options': 'nosniff' }, `${query.has('verbose') ? listing : ''}ok\n`);
}
