import { expect } from 'chai';
import { request } from 'node:http';
import { Container } from 'inversify';
import { API_FRONTEND, CLIENT_HTTP_ROUTE, METRICS_COLLECTOR, type ApiFrontend, type CairnServices, type Logger, type PluginContext } from '@cairn/core';
import { pluginContext } from '@cairn/core/testkit';
import plugin from '../src/index.js';
import { HealthEndpointMetrics } from '../src/observability/health-endpoint-metrics.js';
import { MetricsListenerFrontend, metricsListenAddress } from '../src/observability/metrics-listener-frontend.js';
import { ObservabilityRoute } from '../src/observability/observability-route.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

function context(listenMetricsUrls: string[]): PluginContext {
  return pluginContext('/nonexistent', { ports: ['api'], listenClientUrls: ['http://127.0.0.1:2379'], listenMetricsUrls, logger: silent });
}

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const services = {
  health: {
    names: () => ['serializable_read'],
    check: async () => ({ healthy: true, checks: [{ name: 'serializable_read', healthy: true }] }),
    verdict: async () => ({ healthy: true, reason: '' }),
  },
  metrics: { contentType: 'text/plain; version=0.0.4; charset=utf-8', text: async () => 'etcd_server_has_leader 1\n' },
} as unknown as CairnServices;

describe('--listen-metrics-urls: the metrics listener', () => {
  it('binds a listener frontend only when the member has metrics URLs; the route and the health counters always', async () => {
    const without = new Container();
    await without.load(plugin.createModule({ gateway: false }, context([])));
    expect(without.isBound(API_FRONTEND)).to.equal(false);
    expect(without.get(CLIENT_HTTP_ROUTE)).to.be.instanceOf(ObservabilityRoute);
    expect(without.getAll(METRICS_COLLECTOR).filter((c) => c instanceof HealthEndpointMetrics)).to.have.length(1);
    const withUrls = new Container();
    await withUrls.load(plugin.createModule({ gateway: false }, context(['http://127.0.0.1:0'])));
    expect(withUrls.getAll<ApiFrontend>(API_FRONTEND)).to.have.length(1);
    expect(withUrls.get(API_FRONTEND)).to.be.instanceOf(MetricsListenerFrontend);
  });

  it('serves /metrics and the health endpoints on each URL, and nothing else: /v3/..., /version and / are 404', async () => {
    const container = new Container();
    await container.load(plugin.createModule({ gateway: false }, context(['http://127.0.0.1:0', 'http://127.0.0.1:0'])));
    const frontend = container.get<MetricsListenerFrontend>(API_FRONTEND);
    await frontend.start(services);
    try {
      expect(frontend.boundAddresses).to.have.length(2);
      for (const { port } of frontend.boundAddresses) {
        expect(await get(port, '/metrics')).to.deep.equal({ status: 200, body: 'etcd_server_has_leader 1\n' });
        expect(await get(port, '/health')).to.deep.equal({ status: 200, body: '{"health":"true","reason":""}' });
        expect(await get(port, '/livez?verbose')).to.deep.equal({ status: 200, body: '[+]serializable_read ok\nok\n' });
        expect(await get(port, '/readyz')).to.deep.equal({ status: 200, body: 'ok\n' });
        for (const path of ['/v3/kv/range', '/v3beta/kv/put', '/version', '/']) {
          expect(await get(port, path, path.startsWith('/v3') ? 'POST' : 'GET'), path).to.deep.equal({ status: 404, body: '404 page not found\n' });
        }
      }
    } finally {
      await frontend.stop();
    }
    await frontend.stop();
  });

  it('fails to start, naming the flag, on a URL it cannot serve', async () => {
    expect(metricsListenAddress('http://[::1]:9090')).to.deep.equal({ host: '::1', port: 9090 });
    expect(() => metricsListenAddress('https://127.0.0.1:9090')).to.throw(/--listen-metrics-urls: .*only http:\/\//);
    expect(() => metricsListenAddress('http://127.0.0.1')).to.throw(/names no port/);
    expect(() => metricsListenAddress('127.0.0.1:9090')).to.throw(/--listen-metrics-urls/);
    const first = new Container();
    await first.load(plugin.createModule({ gateway: false }, context(['http://127.0.0.1:0'])));
    const holder = first.get<MetricsListenerFrontend>(API_FRONTEND);
    await holder.start(services);
    try {
      const second = new Container();
      await second.load(plugin.createModule({ gateway: false }, context([`http://127.0.0.1:${holder.boundAddresses[0]!.port}`])));
      const failure = await second
        .get<MetricsListenerFrontend>(API_FRONTEND)
        .start(services)
        .then(
          () => undefined,
          (err: unknown) => err as Error,
        );
      expect(failure?.message).to.equal('--listen-metrics-urls: cannot listen: EADDRINUSE');
    } finally {
      await holder.stop();
    }
  });
});
