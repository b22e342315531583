import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ContainerModule } from 'inversify';
import { configuredPeerUrls, METRICS_COLLECTOR, openSslCipherList, TlsCredentials, TRANSPORT, type CairnPlugin, type PluginContext } from '@cairn/core';
import { isTcpPeerUrl } from './peer-address.js';
import { PeerNetworkMetrics } from './peer-network-metrics.js';
import { TcpTransport, type TcpTransportOptions } from './tcp-transport.js';
import { TCP_TRANSPORT_LOGGER, TCP_TRANSPORT_OPTIONS } from './tokens.js';

/** Options of `plugins.transport: { use: "@cairn/transport-tcp", ... }`. */
export interface TcpPluginOptions {
  /** `host:port` to listen on; default: the first --listen-peer-urls entry. */
  readonly listen?: string;
  /** Messages queued per peer before new ones are dropped. */
  readonly queueSize: number;
  /** Bytes queued per peer before new messages are dropped. */
  readonly queueBytes?: number;
  /** A peer unreachable this long has nothing kept for it. */
  readonly releaseQueueAfterMs?: number;
  /** etcd's rafthttp ConnReadTimeout: handshake deadline, and the longest silence inside a frame. */
  readonly readTimeoutMs?: number;
  /** etcd's rafthttp ConnWriteTimeout: a peer that reads nothing this long has its connection closed. */
  readonly writeTimeoutMs?: number;
  /** First reconnect delay; doubles per failure up to reconnectMaxMs. */
  readonly reconnectInitialMs: number;
  readonly reconnectMaxMs: number;
  /** Largest frame accepted from a peer. */
  readonly maxFrameBytes: number;
  /** Snapshot bytes per chunk frame. */
  readonly snapshotChunkBytes: number;
  /** How often each peer connection measures its round trip (etcd_network_peer_round_trip_time_seconds). */
  readonly probeIntervalMs?: number;
  /** Mutual TLS between members: PEM files (relative paths resolve from the working directory). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile: string };
}

function readPem(path: string, key: string): Buffer {
  try {
    return readFileSync(resolve(path));
  } catch (err) {
    throw new Error(`${key}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

/** The host of "host:port" or a URL, as written ('' for none). */
function hostOf(text: string): string {
  const match = /^(?:[a-z][a-z0-9+.-]*:\/\/)?(?:\[([^\]]+)\]|([^:/]*))/i.exec(text);
  return match?.[1] ?? match?.[2] ?? '';
}

/**
 * etcd's --peer-* TLS flags, for an https:// listen URL (as etcd, they are ignored on http://
 * ones): checked now, so a bad certificate, key or cipher suite is a config error before anything
 * starts (auto TLS makes its certificate at start).
 */
function peerTlsOf(listen: string, context: PluginContext): Pick<TcpTransportOptions, 'peerTls'> {
  if (!listen.startsWith('https://')) return {};
  const settings = context.peerTls;
  if (settings === undefined) throw new Error(`TLS key/cert (--peer-cert-file, --peer-key-file) must be provided for peer url ${listen} with HTTPS scheme`);
  if (settings.autoTls) openSslCipherList(settings.cipherSuites);
  else TlsCredentials.fromFiles(settings);
  const hosts = [...new Set([...context.listenPeerUrls, ...context.advertisePeerUrls].map(hostOf).filter((h) => h !== ''))];
  return { peerTls: { settings, dataDir: context.dataDir, hosts } };
}

/** The TCP peer transport as a Cairn plugin: binds TRANSPORT. */
const tcpTransportPlugin: CairnPlugin<TcpPluginOptions> = {
  manifest: {
    name: '@cairn/transport-tcp',
    provides: ['transport'],
    optionsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        listen: {
          type: 'string',
          pattern: '^(tcp://|http://|https://)?(\\[[^\\]]+\\]|[^:/\\s\\[\\]]*):[0-9]{1,5}/?$',
          description:
            'host:port (or tcp://host:port; https://host:port: TLS with the --peer-* flags) to accept peer connections on; defaults to the first --listen-peer-urls entry.',
        },
        queueSize: { type: 'integer', minimum: 1, default: 4096, description: 'Messages queued per peer; more are dropped and counted.' },
        queueBytes: {
          type: 'integer',
          minimum: 65536,
          default: 33554432,
          description: "Bytes of messages queued per peer (Raft's default bytes in flight to a follower); more are dropped and counted.",
        },
        releaseQueueAfterMs: {
          type: 'integer',
          minimum: 0,
          default: 5000,
          description: 'A peer unreachable this long has its queue emptied at every failed attempt after (Raft resends once it answers).',
        },
        readTimeoutMs: {
          type: 'integer',
          minimum: 100,
          default: 5000,
          description:
            "etcd's rafthttp ConnReadTimeout: a connection without a complete handshake after this long, or silent this long inside a frame, is dropped.",
        },
        writeTimeoutMs: {
          type: 'integer',
          minimum: 100,
          default: 5000,
          description: "etcd's rafthttp ConnWriteTimeout: a peer that reads nothing for this long has its connection closed.",
        },
        reconnectInitialMs: { type: 'integer', minimum: 1, default: 50, description: 'First delay before reconnecting to a lost peer.' },
        reconnectMaxMs: { type: 'integer', minimum: 1, default: 2000, description: 'Longest delay between reconnect attempts.' },
        maxFrameBytes: { type: 'integer', minimum: 65536, default: 67108864, description: 'Largest frame accepted from a peer; bigger drops the connection.' },
        snapshotChunkBytes: { type: 'integer', minimum: 1024, maximum: 16777216, default: 262144, description: 'Snapshot bytes per chunk frame.' },
        probeIntervalMs: {
          type: 'integer',
          minimum: 100,
          default: 5000,
          description: "How often each peer connection measures its round-trip time (etcd's etcd_network_peer_round_trip_time_seconds).",
        },
        tls: {
          type: 'object',
          additionalProperties: false,
          required: ['certFile', 'keyFile', 'caFile'],
          description: "Mutual TLS on every peer connection: this member's certificate and key, and the CA that signs every member's certificate (PEM files).",
          properties: {
            certFile: { type: 'string', minLength: 1 },
            keyFile: { type: 'string', minLength: 1 },
            caFile: { type: 'string', minLength: 1 },
          },
        },
      },
    },
  },
  createModule(options, context) {
    // With peer URLs of another kind (nats:// names a subject of @cairn/transport-nats) this transport would reach no one.
    const wrong = configuredPeerUrls(context).find(({ url }) => !isTcpPeerUrl(url));
    if (wrong !== undefined) {
      const hint = wrong.url.startsWith('nats:')
        ? 'nats:// peer URLs name subjects of @cairn/transport-nats: choose it under plugins.transport'
        : 'give http://host:port or tcp://host:port';
      throw new Error(`${wrong.setting} is not a TCP peer URL (${hint})`);
    }
    const listen = options.listen ?? context.listenPeerUrls[0];
    if (listen === undefined) throw new Error('no listen address: set listen or --listen-peer-urls');
    const tls =
      options.tls === undefined
        ? undefined
        : {
            cert: readPem(options.tls.certFile, 'tls.certFile'),
            key: readPem(options.tls.keyFile, 'tls.keyFile'),
            ca: readPem(options.tls.caFile, 'tls.caFile'),
          };
    const transportOptions: TcpTransportOptions = {
      ...(tls === undefined ? {} : { tls }),
      ...(tls === undefined ? peerTlsOf(listen, context) : {}),
      listen,
      clusterId: context.clusterId,
      queueSize: options.queueSize,
      ...(options.queueBytes === undefined ? {} : { queueBytes: options.queueBytes }),
      ...(options.releaseQueueAfterMs === undefined ? {} : { releaseQueueAfterMs: options.releaseQueueAfterMs }),
      ...(options.readTimeoutMs === undefined ? {} : { readTimeoutMs: options.readTimeoutMs }),
      ...(options.writeTimeoutMs === undefined ? {} : { writeTimeoutMs: options.writeTimeoutMs }),
      reconnect: { initialMs: options.reconnectInitialMs, maxMs: options.reconnectMaxMs },
      maxFrameBytes: options.maxFrameBytes,
      snapshotChunkBytes: options.snapshotChunkBytes,
      probeIntervalMs: options.probeIntervalMs,
    };
    return new ContainerModule(({ bind }) => {
      bind(TCP_TRANSPORT_OPTIONS).toConstantValue(transportOptions);
      bind(TCP_TRANSPORT_LOGGER).toConstantValue(context.logger);
      // etcd's peer network metrics, recorded by the transport's links.
      bind(PeerNetworkMetrics).toSelf().inSingletonScope();
      bind(METRICS_COLLECTOR).toService(PeerNetworkMetrics);
      bind(TRANSPORT).to(TcpTransport).inSingletonScope();
    });
  },
};

export default tcpTransportPlugin;
