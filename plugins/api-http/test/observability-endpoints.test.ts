import { expect } from 'chai';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import type { CairnServices, HealthCheckResult, HealthCheckSelection, HealthService, HealthVerdict, HealthVerdictOptions } from '@cairn/core';
import { HealthEndpointMetrics } from '../src/observability/health-endpoint-metrics.js';
import type { Listener } from '../src/observability/http-answers.js';
import { ObservabilityEndpoints } from '../src/observability/observability-endpoints.js';

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

function get(port: number, path: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A HealthService with named checks whose answers a test sets, recording what it was asked. */
class ScriptedHealth implements HealthService {
  readonly checks: { name: string; kind: 'liveness' | 'readiness'; result: Omit<HealthCheckResult, 'name'> }[] = [
    { name: 'data_corruption', kind: 'readiness', result: { healthy: true } },
    { name: 'serializable_read', kind: 'liveness', result: { healthy: true } },
    { name: 'linearizable_read', kind: 'readiness', result: { healthy: true } },
    { name: 'non_learner', kind: 'readiness', result: { healthy: true } },
  ];
  verdictAnswer: HealthVerdict = { healthy: true, reason: '' };
  readonly asked: unknown[] = [];

  names(kind: 'liveness' | 'readiness'): readonly string[] {
    return this.checks.filter((c) => kind === 'readiness' || c.kind === 'liveness').map((c) => c.name);
  }

  async check(kind: 'liveness' | 'readiness', selection: HealthCheckSelection = {}) {
    this.asked.push({ kind, ...selection });
    const run = this.checks
      .filter((c) => kind === 'readiness' || c.kind === 'liveness')
      .filter((c) => (selection.only === undefined || selection.only.includes(c.name)) && !(selection.exclude ?? []).includes(c.name))
      .map((c) => ({ name: c.name, ...c.result }));
    return { healthy: run.every((c) => c.healthy), checks: run };
  }

  async verdict(options?: HealthVerdictOptions): Promise<HealthVerdict> {
    this.asked.push(options);
    return this.verdictAnswer;
  }

  set(name: string, result: Omit<HealthCheckResult, 'name'>): void {
    this.checks.find((c) => c.name === name)!.result = result;
  }
}

describe('observability endpoints (as etcd 3.5.11+ serves /health, /livez, /readyz, /version, /metrics)', () => {
  let server: Server;
  let port: number;
  let health: ScriptedHealth;
  let registry: Registry;
  let listener: Listener;
  let taken: boolean[];

  beforeEach(async () => {
    health = new ScriptedHealth();
    registry = new Registry();
    const counters = new HealthEndpointMetrics();
    counters.register(registry);
    const endpoints = new ObservabilityEndpoints(counters);
    const services = {
      health,
      metrics: { contentType: 'text/plain; version=0.0.4; charset=utf-8', text: () => registry.metrics() },
    } as unknown as CairnServices;
    listener = 'client';
    taken = [];
    server = createServer((req, res) => {
      const answered = endpoints.serve(req, res, services, listener);
      taken.push(answered);
      if (!answered) {
        res.writeHead(404);
        res.end('not taken\n');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('/health: 200 with {"health":"true","reason":""}, 503 with the reason, as Go writes them; counts both', async () => {
    const ok = await get(port, '/health');
    expect([ok.status, ok.body, ok.headers['content-type'], ok.headers['content-length']]).to.deep.equal([
      200,
      '{"health":"true","reason":""}',
      'text/plain; charset=utf-8',
      '29',
    ]);
    expect(ok.headers['access-control-allow-origin']).to.equal('*');
    health.verdictAnswer = { healthy: false, reason: 'RAFT NO LEADER' };
    const bad = await get(port, '/health');
    expect([bad.status, bad.body, bad.headers['x-content-type-options']]).to.deep.equal([503, '{"health":"false","reason":"RAFT NO LEADER"}\n', 'nosniff']);
    const text = await registry.metrics();
    expect(text).to.include('etcd_server_health_success 1\n');
    expect(text).to.include('etcd_server_health_failures 1\n');
  });

  it('/health passes ?exclude= (repeatable, empty values dropped) and ?serializable=true on', async () => {
    await get(port, '/health?exclude=NOSPACE&exclude=&exclude=CORRUPT&serializable=true');
    await get(port, '/health?serializable=yes');
    expect(health.asked).to.deep.equal([
      { excludedAlarms: ['NOSPACE', 'CORRUPT'], serializable: true },
      { excludedAlarms: [], serializable: false },
    ]);
  });

  it("/readyz and /livez: `ok`, the [+] listing with ?verbose, and on failure 503 with every check's line, reason shown", async () => {
    expect((await get(port, '/readyz')).body).to.equal('ok\n');
    expect((await get(port, '/readyz?verbose')).body).to.equal(
      '[+]data_corruption ok\n[+]serializable_read ok\n[+]linearizable_read ok\n[+]non_learner ok\nok\n',
    );
    expect((await get(port, '/livez?verbose=1')).body).to.equal('[+]serializable_read ok\nok\n');
    health.set('linearizable_read', { healthy: false, reason: 'etcdserver: request timed out' });
    const failed = await get(port, '/readyz');
    expect(failed.status).to.equal(503);
    expect(failed.body).to.equal(
      '[+]data_corruption ok\n[+]serializable_read ok\n[-]linearizable_read failed: etcdserver: request timed out\n[+]non_learner ok\n\n',
    );
    expect(failed.headers['content-type']).to.equal('text/plain; charset=utf-8');
    // The liveness endpoint does not run the linearizable read.
    expect((await get(port, '/livez')).status).to.equal(200);
    const text = await registry.metrics();
    expect(text).to.include('etcd_server_healthcheck{name="linearizable_read",type="readyz"} 0\n');
    expect(text).to.include('etcd_server_healthchecks_total{name="linearizable_read",status="error",type="readyz"} 1\n');
    expect(text).to.include('etcd_server_healthchecks_total{name="serializable_read",status="success",type="livez"} 2\n');
  });

  it('?exclude= leaves checks out (unknown names are ignored, as etcd does for compatibility), a sub-path runs its one check', async () => {
    health.set('linearizable_read', { healthy: false, reason: 'no quorum' });
    const excluded = await get(port, '/readyz?verbose&exclude=linearizable_read&exclude=nothing');
    expect([excluded.status, excluded.body]).to.deep.equal([200, '[+]data_corruption ok\n[+]serializable_read ok\n[+]non_learner ok\nok\n']);
    const one = await get(port, '/readyz/serializable_read?verbose&exclude=serializable_read');
    expect([one.status, one.body]).to.deep.equal([200, '[+]serializable_read ok\nok\n']);
    const failing = await get(port, '/readyz/linearizable_read');
    expect([failing.status, failing.body]).to.deep.equal([503, '[-]linearizable_read failed: no quorum\n\n']);
    expect(health.asked).to.deep.equal([
      { kind: 'readiness', exclude: ['linearizable_read', 'nothing'] },
      { kind: 'readiness', only: ['serializable_read'] },
      { kind: 'readiness', only: ['linearizable_read'] },
    ]);
  });

  it('paths that are not a check are left to the next route (a 404 from the server)', async () => {
    for (const path of ['/readyz/nothing', '/livez/linearizable_read', '/readyz/a/b', '/healthz', '/v3/kv/range', '/readyzz']) {
      expect((await get(port, path)).body, path).to.equal('not taken\n');
    }
    expect(taken.every((t) => !t)).to.equal(true);
  });

  it("GET only: anything else is Go's 405 with Allow: GET", async () => {
    for (const path of ['/health', '/readyz', '/livez/serializable_read', '/version']) {
      const refused = await get(port, path, 'POST');
      expect([refused.status, refused.headers['allow'], refused.body], path).to.deep.equal([405, 'GET', 'Method Not Allowed\n']);
    }
  });

  it('/version answers on the client port only; /metrics is the registry in the text format', async () => {
    const version = await get(port, '/version');
    expect([version.status, version.headers['content-type'], version.body]).to.deep.equal([
      200,
      'application/json',
      '{"etcdserver":"3.4.0","etcdcluster":"3.4.0"}',
    ]);
    const metrics = await get(port, '/metrics');
    expect(metrics.headers['content-type']).to.equal('text/plain; version=0.0.4; charset=utf-8');
    expect(metrics.body).to.include('# TYPE etcd_server_health_success counter');
    listener = 'metrics';
    expect((await get(port, '/version')).body).to.equal('not taken\n');
    const health = await get(port, '/health');
    expect(health.status).to.equal(200);
    expect(health.headers['access-control-allow-origin']).to.equal(undefined);
  });
});
