import { ContainerModule } from 'inversify';
import { API_FRONTEND, CLIENT_HTTP_ROUTE, METRICS_COLLECTOR, type CairnPlugin } from '@cairn/core';
import { GatewayRoute } from './gateway/gateway-route.js';
import { HealthEndpointMetrics } from './observability/health-endpoint-metrics.js';
import { MetricsListenerFrontend } from './observability/metrics-listener-frontend.js';
import { ObservabilityEndpoints } from './observability/observability-endpoints.js';
import { ObservabilityRoute } from './observability/observability-route.js';
import { HTTP_LOGGER, HTTP_METRICS_URLS, HTTP_PLUGIN_OPTIONS, HTTP_REQUEST_LIMITS } from './tokens.js';

/** Options of `{ use: "@cairn/api-http", ... }` in a config's plugins.api list. */
export interface HttpPluginOptions {
  /** Serve etcd's JSON gateway (/v3/..., /v3beta/...) and the SSE watch on the client port; default true. */
  readonly gateway?: boolean;
}

/**
 * etcd's HTTP side as a Cairn plugin. It owns no client port: its routes (CLIENT_HTTP_ROUTE) are
 * served by the frontend that owns the port (@cairn/api-grpc), on the same listener, as etcd does.
 * With --listen-metrics-urls it also listens there for /metrics and the health endpoints.
 */
const httpApiPlugin: CairnPlugin<HttpPluginOptions> = {
  manifest: {
    name: '@cairn/api-http',
    provides: ['api'],
    optionsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        gateway: { type: 'boolean', description: "Serve etcd's JSON gateway (/v3/...) and the SSE watch on the client port (default true)." },
      },
    },
  },
  createModule(options, context) {
    return new ContainerModule(({ bind }) => {
      bind(HTTP_PLUGIN_OPTIONS).toConstantValue(options);
      bind(HTTP_LOGGER).toConstantValue(context.logger);
      bind(HTTP_REQUEST_LIMITS).toConstantValue(context.limits);
      // The health endpoints' counters, and the endpoints the client port and the metrics listener share.
      bind(HealthEndpointMetrics).toSelf().inSingletonScope();
      bind(METRICS_COLLECTOR).toService(HealthEndpointMetrics);
      bind(ObservabilityEndpoints).toSelf().inSingletonScope();
      bind(CLIENT_HTTP_ROUTE).to(ObservabilityRoute).inSingletonScope();
      if (options.gateway !== false) bind(CLIENT_HTTP_ROUTE).to(GatewayRoute).inSingletonScope();
      if (context.listenMetricsUrls.length > 0) {
        bind(HTTP_METRICS_URLS).toConstantValue(context.listenMetricsUrls);
        bind(API_FRONTEND).to(MetricsListenerFrontend).inSingletonScope();
      }
    });
  },
};

export default httpApiPlugin;
