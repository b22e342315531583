import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { inject, injectable, multiInject, optional } from 'inversify';
import {
  CLIENT_HTTP_ROUTE,
  etcdUnaryMethods,
  maxReceiveBytes,
  unaryMethodsOf,
  verifiedCommonName,
  type ApiFrontend,
  type CairnServices,
  type ClientHttpRoute,
  type Logger,
  type TlsSettings,
  TlsCredentials,
} from '@cairn/core';
import { ClientHttpServer } from './client-http-server.js';
import { ClientPortListener, DEFAULT_HANDSHAKE_TIMEOUT_MS } from './client-port-listener.js';
import { ClientPortMetrics } from './client-port-metrics.js';
import { repairingAuthority } from './authority/authority-route.js';
import { SettingId, settingsPayload } from './authority/http2-frame.js';
import { etcdServiceDefinition, recipeServiceDefinition } from './etcd-proto.js';
import { keepAliveHandler } from './lease-keepalive-handler.js';
import { observeHandler } from './observe-handler.js';
import { snapshotHandler } from './snapshot-handler.js';
import { GRPC_FRONTEND_OPTIONS, GRPC_LOGGER } from './tokens.js';
import { unaryHandlers } from './unary-handlers.js';
import { watchHandlers, watchServiceDefinition } from './watch-handlers.js';
import { GrpcServerMetrics } from './grpc-server-metrics.js';
import { GrpcHttp2Server } from './server/grpc-http2-server.js';

/** etcd lets a gRPC message be this much larger than --max-request-bytes (its grpcOverheadBytes). */
export { GRPC_OVERHEAD_BYTES } from '@cairn/core';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  /** An https:// client URL: serve TLS there (with `GrpcFrontendOptions.tls`). */
  readonly tls?: boolean;
}

/** Client TLS from etcd's flags, for the listen addresses marked `tls`. */
export interface GrpcFrontendTls {
  readonly settings: TlsSettings;
  /** The member's data dir: auto TLS makes its certificate under `fixtures/client`. */
  readonly dataDir: string;
  /** Hosts an auto-TLS certificate is valid for (those of the client URLs). */
  readonly hosts: readonly string[];
}

export interface GrpcFrontendOptions {
  /** Where to listen; port 0 picks a free port (see `boundAddresses`). */
  readonly listen: readonly ListenAddress[];
  /** etcd's --max-request-bytes: larger writes fail with "etcdserver: request is too large". */
  readonly maxRequestBytes: number;
  /** Largest gRPC message accepted at all (default maxRequestBytes + 512 KiB, as etcd). */
  readonly maxRecvBytes?: number;
  /** Needed when a listen address is `tls`. */
  readonly tls?: GrpcFrontendTls;
  /**
   * A client connection that has not completed its TLS handshake, HTTP/2 preface and first frame,
   * or HTTP/1 request headers within this is closed (default 10 s; grpc-go's ConnectionTimeout is 120 s).
   */
  readonly handshakeTimeoutMs?: number;
  /** etcd's --grpc-keepalive-interval: an HTTP/2 connection idle this long is pinged (default 2 h). */
  readonly keepaliveIntervalMs?: number;
  /** etcd's --grpc-keepalive-timeout: a ping unanswered this long closes the connection (default 20 s). */
  readonly keepaliveTimeoutMs?: number;
  /** etcd's --grpc-keepalive-min-time: a client pinging more often is sent GOAWAY "too_many_pings" (default 5 s). */
  readonly keepaliveMinTimeMs?: number;
  /** etcd's --max-concurrent-streams: calls one connection may have open at once, told to clients in HTTP/2 SETTINGS (default 2^32 - 1). */
  readonly maxConcurrentStreams?: number;
}

/** etcd's defaults for --grpc-keepalive-interval, --grpc-keepalive-timeout and --grpc-keepalive-min-time. */
export const DEFAULT_GRPC_KEEPALIVE_INTERVAL_MS = 2 * 60 * 60 * 1000;
export const DEFAULT_GRPC_KEEPALIVE_TIMEOUT_MS = 20_000;
export const DEFAULT_GRPC_KEEPALIVE_MIN_TIME_MS = 5_000;
/** The most HTTP/2's SETTINGS_MAX_CONCURRENT_STREAMS can say: etcd's default for --max-concurrent-streams. */
const MAX_HTTP2_CONCURRENT_STREAMS = 4294967295;

/** How long stop() lets calls in flight finish before cancelling them. */
const STOP_GRACE_MS = 1000;

/**
 * The etcd v3 gRPC API on Cairn's services: KV, Maintenance, Cluster, and Lease, Watch, Lock and
 * Election when the services have them. Auth is registered once the services' method table has it; until then it is answered UNIMPLEMENTED.
 * gRPC shares each client port with HTTP/1.1, as etcd's does: those requests go to the routes
 * contributed to CLIENT_HTTP_ROUTE (the JSON gateway, /health, /metrics), else a 404.
 */
@injectable()
export class GrpcFrontend implements ApiFrontend {
  private server: GrpcHttp2Server | undefined;
  private listeners: ClientPortListener[] = [];
  private http1: ClientHttpServer | undefined;
  private bound: ListenAddress[] = [];

  constructor(
    @inject(GRPC_FRONTEND_OPTIONS) private readonly options: GrpcFrontendOptions,
    @inject(GRPC_LOGGER) @optional() private readonly logger?: Logger,
    @multiInject(CLIENT_HTTP_ROUTE) @optional() private readonly httpRoutes: readonly ClientHttpRoute[] = [],
    @inject(GrpcServerMetrics) @optional() private readonly metrics?: GrpcServerMetrics,
    @inject(ClientPortMetrics) @optional() private readonly portMetrics?: ClientPortMetrics,
  ) {}

  /** The addresses actually listened on (ports resolved), in the order of `options.listen`. */
  get boundAddresses(): readonly ListenAddress[] {
    return this.bound;
  }

  async start(services: CairnServices): Promise<void> {
    if (this.server !== undefined) throw new Error('GrpcFrontend: already started');
    const credentials = await this.clientTlsCredentials();
    // Unset, HTTP/2 allows 2^32 - 1 streams, etcd's default: the server then sends an empty SETTINGS frame.
    const limit = this.options.maxConcurrentStreams ?? MAX_HTTP2_CONCURRENT_STREAMS;
    const streamLimit = limit < MAX_HTTP2_CONCURRENT_STREAMS ? limit : undefined;
    const metrics = this.metrics;
    const server = new GrpcHttp2Server({
      maxReceiveBytes: this.options.maxRecvBytes ?? maxReceiveBytes(this.options.maxRequestBytes),
      keepaliveIntervalMs: this.options.keepaliveIntervalMs ?? DEFAULT_GRPC_KEEPALIVE_INTERVAL_MS,
      keepaliveTimeoutMs: this.options.keepaliveTimeoutMs ?? DEFAULT_GRPC_KEEPALIVE_TIMEOUT_MS,
      keepaliveMinTimeMs: this.options.keepaliveMinTimeMs ?? DEFAULT_GRPC_KEEPALIVE_MIN_TIME_MS,
      ...(streamLimit === undefined ? {} : { maxConcurrentStreams: streamLimit }),
      ...(metrics === undefined ? {} : { instrument: (service, implementation) => metrics.instrument(service, implementation) }),
      ...(this.logger === undefined ? {} : { logger: this.logger }),
    });
    // The unary RPCs come from the core's table (the JSON gateway serves the same); streams are this frontend's.
    const unary = etcdUnaryMethods(services, { maxRequestBytes: this.options.maxRequestBytes });
    server.addService(etcdServiceDefinition('KV'), unaryHandlers(unary, 'etcdserverpb.KV'));
    server.addService(etcdServiceDefinition('Maintenance'), {
      ...unaryHandlers(unary, 'etcdserverpb.Maintenance'),
      Snapshot: snapshotHandler(services),
    });
    server.addService(etcdServiceDefinition('Cluster'), unaryHandlers(unary, 'etcdserverpb.Cluster'));
    if (services.lease !== undefined)
      server.addService(etcdServiceDefinition('Lease'), { ...unaryHandlers(unary, 'etcdserverpb.Lease'), LeaseKeepAlive: keepAliveHandler(services) });
    if (services.watch !== undefined) server.addService(watchServiceDefinition(), watchHandlers(services, this.options.maxRequestBytes));
    if (services.lock !== undefined) server.addService(recipeServiceDefinition('v3lockpb.Lock'), unaryHandlers(unary, 'v3lockpb.Lock'));
    if (services.election !== undefined)
      server.addService(recipeServiceDefinition('v3electionpb.Election'), {
        ...unaryHandlers(unary, 'v3electionpb.Election'),
        Observe: observeHandler(services),
      });
    // Auth lights up when the services have it (the table then has its methods); until then it is answered UNIMPLEMENTED.
    if (unaryMethodsOf(unary, 'etcdserverpb.Auth').size > 0) server.addService(etcdServiceDefinition('Auth'), unaryHandlers(unary, 'etcdserverpb.Auth'));
    const handshakeTimeoutMs = this.options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    const portMetrics = this.portMetrics;
    const http1 = new ClientHttpServer(this.httpRoutes, services, {
      headersTimeoutMs: handshakeTimeoutMs,
      ...(this.logger === undefined ? {} : { logger: this.logger }),
      ...(portMetrics === undefined ? {} : { onRefused: (reason) => portMetrics.refused(reason) }),
    });
    this.http1 = http1;
    this.server = server;
    try {
      for (const address of this.options.listen) {
        const secure = address.tls === true && credentials !== undefined;
        const live = (): boolean => this.server === server;
        const inject = (connection: Duplex, commonName?: string): void => server.injectConnection(connection, commonName);
        // The listener's early SETTINGS must be the server's own: the same stream limit.
        const serverSettings = settingsPayload(new Map(streamLimit === undefined ? [] : [[SettingId.MAX_CONCURRENT_STREAMS, streamLimit]]));
        const plainHttp2 = repairingAuthority(inject, { live, serverSettings });
        // A TLS connection's verified certificate follows it when it is handed over through the authority repair.
        const secureHttp2 = (socket: Socket): void =>
          repairingAuthority((connection) => inject(connection, verifiedCommonName(socket)), { live, serverSettings })(socket);
        const listener = new ClientPortListener(
          { http2: secure ? secureHttp2 : plainHttp2, http1: (socket) => http1.accept(socket) },
          {
            ...(this.logger === undefined ? {} : { logger: this.logger }),
            ...(secure ? { tls: credentials } : {}),
            handshakeTimeoutMs,
            ...(portMetrics === undefined ? {} : { onRefused: (reason) => portMetrics.refused(reason) }),
          },
        );
        this.listeners.push(listener);
        const info = await listener.listen(address.host, address.port);
        this.bound.push({ host: address.host, port: info.port, ...(secure ? { tls: true } : {}) });
        this.logger?.info({ address: `${address.host}:${info.port}`, ...(secure ? { tls: true } : {}) }, 'serving the etcd v3 gRPC API');
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** The client TLS credentials when some listen address is https:// (auto TLS: the certificate made first). */
  private async clientTlsCredentials(): Promise<TlsCredentials | undefined> {
    const secure = this.options.listen.find((a) => a.tls === true);
    if (secure === undefined) return undefined;
    const tls = this.options.tls;
    if (tls === undefined)
      throw new Error(`GrpcFrontend: TLS key/cert (--cert-file, --key-file) must be provided for client url https://${secure.host}:${secure.port}`);
    return TlsCredentials.open(tls.settings, { dataDir: tls.dataDir, side: 'client', hosts: tls.hosts }, this.logger);
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    // Stop accepting now; the listeners finish closing once the connections below are gone
    // (a net.Server's close waits for every accepted connection, and clients may keep theirs open).
    const listenersClosed = Promise.all(this.listeners.map((l) => l.close()));
    this.listeners = [];
    this.bound = [];
    this.http1?.close();
    this.http1 = undefined;
    await server.close(STOP_GRACE_MS);
    await listenersClosed;
  }
}
