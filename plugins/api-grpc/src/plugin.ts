import { ContainerModule } from 'inversify';
import { API_FRONTEND, METRICS_COLLECTOR, PluginEntryBindings, type CairnPlugin } from '@cairn/core';
import { GrpcFrontend, type GrpcFrontendOptions } from './grpc-frontend.js';
import { GrpcServerMetrics } from './grpc-server-metrics.js';
import { parseListenAddress } from './listen-address.js';
import { GRPC_FRONTEND_OPTIONS, GRPC_LOGGER } from './tokens.js';

/** Options of `{ use: "@cairn/api-grpc", ... }` in a config's plugins.api list. */
export interface GrpcPluginOptions {
  /** Comma-separated "host:port" list; default: the member's --listen-client-urls (127.0.0.1:2379). */
  readonly listen?: string;
  /** Largest gRPC message accepted; default --max-request-bytes + 512 KiB, as etcd. */
  readonly maxRecvBytes?: number;
}

const hostPortList = '^(\\[[^\\]]+\\]|[^:,\\s\\[\\]]*):[0-9]{1,5}(,(\\[[^\\]]+\\]|[^:,\\s\\[\\]]*):[0-9]{1,5})*$';

/** The etcd v3 gRPC API as a Cairn plugin: binds one ApiFrontend. */
const grpcApiPlugin: CairnPlugin<GrpcPluginOptions> = {
  manifest: {
    name: '@cairn/api-grpc',
    provides: ['api'],
    optionsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        listen: {
          type: 'string',
          pattern: hostPortList,
          description: 'Comma-separated host:port list to serve on; defaults to --listen-client-urls (127.0.0.1:2379).',
        },
        maxRecvBytes: {
          type: 'integer',
          minimum: 1,
          description: 'Largest gRPC message accepted; defaults to --max-request-bytes plus 512 KiB.',
        },
      },
    },
  },
  createModule(options, context) {
    const listen = (options.listen !== undefined ? options.listen.split(',') : context.listenClientUrls).map(parseListenAddress);
    const frontendOptions: GrpcFrontendOptions = {
      listen,
      maxRequestBytes: context.limits.maxRequestBytes,
      ...(options.maxRecvBytes !== undefined ? { maxRecvBytes: options.maxRecvBytes } : {}),
    };
    return new ContainerModule(({ bind, isBound }) => {
      // plugins.api may list this plugin twice (two sets of listeners): each entry's frontend gets
      // its own options and logger; the HTTP/1 routes (CLIENT_HTTP_ROUTE) are the member's.
      const entry = new PluginEntryBindings(bind, options.listen ?? context.listenClientUrls.join(','));
      entry.value(GRPC_FRONTEND_OPTIONS, frontendOptions);
      entry.value(GRPC_LOGGER, context.logger);
      entry.port(API_FRONTEND, GrpcFrontend);
      // One set of gRPC metrics for the member, however many entries: the first entry binds it.
      if (!isBound(GrpcServerMetrics)) {
        bind(GrpcServerMetrics).toSelf().inSingletonScope();
        bind(METRICS_COLLECTOR).toService(GrpcServerMetrics);
      }
    });
  },
};

export default grpcApiPlugin;
