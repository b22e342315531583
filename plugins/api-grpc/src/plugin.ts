import { ContainerModule } from 'inversify';
import { API_FRONTEND, METRICS_COLLECTOR, openSslCipherList, PluginEntryBindings, TlsCredentials, type CairnPlugin, type PluginContext } from '@cairn/core';
import { GrpcFrontend, type GrpcFrontendOptions, type ListenAddress } from './grpc-frontend.js';
import { ClientPortMetrics } from './client-port-metrics.js';
import { GrpcServerMetrics } from './grpc-server-metrics.js';
import { parseListenAddress } from './listen-address.js';
import { GRPC_FRONTEND_OPTIONS, GRPC_LOGGER } from './tokens.js';

/** Options of `{ use: "@cairn/api-grpc", ... }` in a config's plugins.api list. */
export interface GrpcPluginOptions {
  /**
   * Comma-separated "host:port" list (or URLs: https:// serves TLS with the client TLS flags);
   * default: the member's --listen-client-urls (127.0.0.1:2379).
   */
  readonly listen?: string;
  /** Largest gRPC message accepted; default --max-request-bytes + 512 KiB, as etcd. */
  readonly maxRecvBytes?: number;
  /** A client connection that has not completed its handshake (TLS, HTTP/2 preface, HTTP/1 headers) within this is closed. */
  readonly handshakeTimeoutMs?: number;
  /** etcd's --grpc-keepalive-interval, in milliseconds; default the member's flag (2 h). */
  readonly keepaliveIntervalMs?: number;
  /** etcd's --grpc-keepalive-timeout, in milliseconds; default the member's flag (20 s). */
  readonly keepaliveTimeoutMs?: number;
  /** etcd's --grpc-keepalive-min-time, in milliseconds; default the member's flag (5 s). */
  readonly keepaliveMinTimeMs?: number;
}

const hostPort = '(https?://)?(\\[[^\\]]+\\]|[^:/,\\s\\[\\]]*):[0-9]{1,5}/?';
const hostPortList = `^${hostPort}(,${hostPort})*$`;

/** The host of "host:port" or a URL, as written ('' for none: every interface). */
function hostOf(text: string): string {
  const match = /^(?:[a-z][a-z0-9+.-]*:\/\/)?(?:\[([^\]]+)\]|([^:/]*))/i.exec(text);
  return match?.[1] ?? match?.[2] ?? '';
}

/**
 * The client TLS of the https:// addresses, checked now so a bad certificate, key or cipher suite
 * is a config error before anything starts (auto TLS makes its certificate at start).
 */
function clientTlsOf(urls: readonly string[], listen: readonly ListenAddress[], context: PluginContext): Pick<GrpcFrontendOptions, 'tls'> {
  const secure = listen.findIndex((a) => a.tls === true);
  if (secure < 0) return {};
  const settings = context.clientTls;
  if (settings === undefined) throw new Error(`TLS key/cert (--cert-file, --key-file) must be provided for client url ${urls[secure]} with HTTPS scheme`);
  if (settings.autoTls) openSslCipherList(settings.cipherSuites);
  else TlsCredentials.fromFiles(settings);
  // The URLs' own host names (localhost, not the 127.0.0.1 it is bound as) go into an auto-TLS certificate.
  const hosts = urls.map((u) => hostOf(u)).filter((h) => h !== '');
  return { tls: { settings, dataDir: context.dataDir, hosts } };
}

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
          description: 'Comma-separated host:port list (or http:// / https:// URLs) to serve on; defaults to --listen-client-urls (127.0.0.1:2379).',
        },
        maxRecvBytes: {
          type: 'integer',
          minimum: 1,
          description: 'Largest gRPC message accepted; defaults to --max-request-bytes plus 512 KiB.',
        },
        handshakeTimeoutMs: {
          type: 'integer',
          minimum: 100,
          default: 10000,
          description:
            'A client connection that has not completed its TLS handshake, HTTP/2 preface and first frame, or HTTP/1 request headers within this is closed (a slowloris).',
        },
        keepaliveIntervalMs: {
          type: 'integer',
          minimum: 0,
          description: "An idle client connection is pinged this often (0: never); defaults to the member's --grpc-keepalive-interval (2 h).",
        },
        keepaliveTimeoutMs: {
          type: 'integer',
          minimum: 1,
          description: "A ping unanswered this long closes the connection; defaults to the member's --grpc-keepalive-timeout (20 s).",
        },
        keepaliveMinTimeMs: {
          type: 'integer',
          minimum: 0,
          description:
            'A client pinging more often than this (more often than every 2 h while it has no call open) is sent GOAWAY "too_many_pings" at the third such ping; defaults to the member\'s --grpc-keepalive-min-time (5 s).',
        },
      },
    },
  },
  createModule(options, context) {
    const urls = options.listen !== undefined ? options.listen.split(',') : context.listenClientUrls;
    const listen = urls.map(parseListenAddress);
    const frontendOptions: GrpcFrontendOptions = {
      listen,
      maxRequestBytes: context.limits.maxRequestBytes,
      ...(options.maxRecvBytes !== undefined ? { maxRecvBytes: options.maxRecvBytes } : {}),
      ...(options.handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs: options.handshakeTimeoutMs } : {}),
      keepaliveIntervalMs: options.keepaliveIntervalMs ?? context.clientKeepalive.intervalMs,
      keepaliveTimeoutMs: options.keepaliveTimeoutMs ?? context.clientKeepalive.timeoutMs,
      keepaliveMinTimeMs: options.keepaliveMinTimeMs ?? context.clientKeepalive.minTimeMs,
      maxConcurrentStreams: context.limits.maxConcurrentStreams,
      ...clientTlsOf(urls, listen, context),
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
        bind(ClientPortMetrics).toSelf().inSingletonScope();
        bind(METRICS_COLLECTOR).toService(ClientPortMetrics);
      }
    });
  },
};

export default grpcApiPlugin;
