import type { Server, Socket } from 'node:net';
import { inject, injectable, optional } from 'inversify';
import { TlsCredentials, type Logger, type LogFields, type MemberId, type Message, type TlsSettings, type Transport, type TransportHandler } from '@cairn/core';
import { PROTOCOL_VERSION, type Hello } from './handshake.js';
import { InboundConnection } from './inbound-connection.js';
import { parsePeerAddress, type PeerAddress } from './peer-address.js';
import { PeerNetworkMetrics } from './peer-network-metrics.js';
import { PeerRefusals } from './peer-refusals.js';
import { PeerLink, type ReconnectBackoff } from './peer-link.js';
import {
  credentialsPeerTls,
  fixedPeerTls,
  plainPeerSockets,
  tlsPeerSockets,
  type PeerSockets,
  type PeerTlsOptions,
  type PeerTlsSource,
} from './peer-sockets.js';
import { sendSnapshotOver } from './snapshot-sender.js';
import { TCP_TRANSPORT_LOGGER, TCP_TRANSPORT_OPTIONS } from './tokens.js';
import { emptyMetrics, type TransportMetrics } from './transport-metrics.js';

export interface TcpTransportOptions {
  /** Where to listen: `host:port` or a peer URL (`tcp://host:port`, `http://host:port`). Port 0 picks a free port. */
  readonly listen: string;
  /**
   * The cluster ID; a connection from another cluster is refused. `start()`'s argument overrides
   * it; '' (or none) means a joining member: it takes the cluster of the first known peer that
   * connects, and reports it through the handler's onClusterId.
   */
  readonly clusterId?: string;
  /** Messages queued per peer before new ones are dropped (default 4096). */
  readonly queueSize?: number;
  /**
   * Bytes of messages queued per peer before new ones are dropped (default 32 MiB, Raft's default
   * bytes in flight to one follower); one message larger than this still goes when the queue is empty.
   */
  readonly queueBytes?: number;
  /**
   * A peer unreachable this long (every attempt since failed) has its queue emptied at each failed
   * attempt after, so a member that never comes back holds nothing for it (default 5 s; Raft resends).
   */
  readonly releaseQueueAfterMs?: number;
  /**
   * etcd's rafthttp ConnReadTimeout (default 5 s): an accepted connection without a complete Hello
   * after this long, or silent this long in the middle of a frame, is dropped; a dialled one whose
   * Welcome has not come by then is abandoned and retried.
   */
  readonly readTimeoutMs?: number;
  /** etcd's rafthttp ConnWriteTimeout (default 5 s): a connection whose peer has read nothing for this long is closed. */
  readonly writeTimeoutMs?: number;
  readonly reconnect?: Partial<ReconnectBackoff>;
  /** Largest frame accepted from a peer (default 64 MiB); a bigger one drops the connection. */
  readonly maxFrameBytes?: number;
  /** Snapshot bytes per chunk frame (default 256 KiB). */
  readonly snapshotChunkBytes?: number;
  /** A snapshot transfer with no traffic for this long fails (default 30 s). */
  readonly snapshotIdleTimeoutMs?: number;
  /** Mutual TLS for every peer connection with fixed PEM bytes; without it (and `peerTls`), plain TCP. */
  readonly tls?: PeerTlsOptions;
  /**
   * TLS for every peer connection from etcd's --peer-* flags (https:// peer URLs): files re-read
   * when they change on disk, auto TLS made in `<dataDir>/fixtures/peer` at start.
   */
  readonly peerTls?: TcpPeerTls;
  /** How often each open peer connection measures its round trip (default 5 s; etcd's round-trip histogram). */
  readonly probeIntervalMs?: number;
}

export interface TcpPeerTls {
  readonly settings: TlsSettings;
  readonly dataDir: string;
  /** Hosts an auto-TLS certificate is valid for (those of the member's peer URLs). */
  readonly hosts: readonly string[];
}

const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: (_fields: LogFields) => silentLogger,
};

/**
 * The Raft peer transport over TCP. One outbound message connection per peer (ordered, bounded
 * queue, corked batches, reconnect with backoff), one extra connection per snapshot transfer,
 * and a listener that accepts both from members of the same cluster.
 */
@injectable()
export class TcpTransport implements Transport {
  private readonly queueSize: number;
  private readonly queueBytes: number;
  private readonly releaseQueueAfterMs: number;
  private readonly readTimeoutMs: number;
  private readonly writeTimeoutMs: number;
  private readonly backoff: ReconnectBackoff;
  private readonly maxFrameBytes: number;
  private readonly snapshotChunkBytes: number;
  private readonly snapshotIdleTimeoutMs: number;
  private readonly probeIntervalMs: number;
  private readonly listenAddress: PeerAddress;
  /** Plain until `start()` sets up TLS when configured. */
  private peerSockets: PeerSockets = plainPeerSockets;
  private readonly counters: TransportMetrics = emptyMetrics();
  private readonly links = new Map<MemberId, PeerLink>();
  private readonly sockets = new Set<Socket>();
  private peers = new Map<MemberId, PeerAddress[]>();
  private self: MemberId | undefined;
  private clusterId = '';
  private handler: TransportHandler | undefined;
  private server: Server | undefined;
  private sweep: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    @inject(TCP_TRANSPORT_OPTIONS) private readonly options: TcpTransportOptions,
    @inject(TCP_TRANSPORT_LOGGER) @optional() private readonly logger: Logger = silentLogger,
    @inject(PeerNetworkMetrics) @optional() private readonly network?: PeerNetworkMetrics,
  ) {
    this.listenAddress = parsePeerAddress(options.listen);
    this.queueSize = options.queueSize ?? 4096;
    this.queueBytes = options.queueBytes ?? 32 * 1024 * 1024;
    this.releaseQueueAfterMs = options.releaseQueueAfterMs ?? 5_000;
    this.readTimeoutMs = options.readTimeoutMs ?? 5_000;
    this.writeTimeoutMs = options.writeTimeoutMs ?? 5_000;
    this.backoff = { initialMs: options.reconnect?.initialMs ?? 50, maxMs: options.reconnect?.maxMs ?? 2_000 };
    this.maxFrameBytes = options.maxFrameBytes ?? 64 * 1024 * 1024;
    this.snapshotChunkBytes = options.snapshotChunkBytes ?? 256 * 1024;
    this.snapshotIdleTimeoutMs = options.snapshotIdleTimeoutMs ?? 30_000;
    this.probeIntervalMs = options.probeIntervalMs ?? 5_000;
  }

  async start(self: MemberId, handler: TransportHandler, clusterId?: string): Promise<void> {
    if (this.server !== undefined || this.stopping !== undefined) throw new Error('TcpTransport: start() called twice; create a new transport per incarnation');
    this.self = self;
    this.handler = handler;
    this.clusterId = clusterId ?? this.options.clusterId ?? '';
    // Every refusal is counted, and logged at a rate a flood cannot turn into a disk full of lines.
    const network = this.network;
    const refusals = new PeerRefusals(this.logger, this.counters, network === undefined ? undefined : (reason) => network.refused(reason));
    const refused = (error: Error, remote: string, direction: 'inbound' | 'outbound'): void =>
      refusals.refuse('tls_handshake', { remote, reason: error.message, direction });
    const tlsSource = await this.tlsSource();
    if (tlsSource !== undefined) this.peerSockets = tlsPeerSockets(tlsSource, (error, remote) => refused(error, remote, 'outbound'));
    const inbound = {
      self,
      clusterId: () => this.clusterId,
      adoptClusterOf: (hello: Hello) => this.adoptClusterOf(hello),
      handler,
      logger: this.logger,
      metrics: this.counters,
      ...(this.network === undefined ? {} : { network: this.network }),
      maxFrameBytes: this.maxFrameBytes,
      readTimeoutMs: this.readTimeoutMs,
      refusals,
      snapshotHighWaterBytes: 4 * this.snapshotChunkBytes,
    };
    const server = this.peerSockets.createServer(
      (socket) => {
        this.track(socket);
        new InboundConnection(socket, inbound);
      },
      (error, remote) => refused(error, remote, 'inbound'),
    );
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.listenAddress.host, port: this.listenAddress.port }, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: NodeJS.ErrnoException) => {
      this.server = undefined;
      throw new Error(`TcpTransport: cannot listen on ${this.options.listen}: ${err.code ?? err.message}`);
    });
    server.on('error', (err) => this.logger.error({ error: err.message }, 'peer listener error'));
    this.logger.info({ member: self, listen: this.boundAddress() }, 'peer transport listening');
    this.sweep = setInterval(() => this.connectAll(), this.probeIntervalMs);
    this.sweep.unref();
  }

  /** Where TLS options come from: the plugin's fixed PEM bytes, or etcd's --peer-* flags (auto TLS made now); none: plain TCP. */
  private async tlsSource(): Promise<PeerTlsSource | undefined> {
    if (this.options.tls !== undefined) return fixedPeerTls(this.options.tls);
    const peerTls = this.options.peerTls;
    if (peerTls === undefined) return undefined;
    return credentialsPeerTls(await TlsCredentials.open(peerTls.settings, { dataDir: peerTls.dataDir, side: 'peer', hosts: peerTls.hosts }, this.logger));
  }

  /** The address the listener is bound to, `host:port` (with the real port when 0 was asked for). */
  boundAddress(): string {
    const address = this.server?.address();
    if (address === null || address === undefined || typeof address === 'string') throw new Error('TcpTransport is not listening');
    return address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
  }

  setPeers(peers: ReadonlyMap<MemberId, readonly string[]>): void {
    const next = new Map<MemberId, PeerAddress[]>();
    for (const [id, urls] of peers) {
      if (id === this.self) continue;
      const addresses: PeerAddress[] = [];
      for (const url of urls) {
        try {
          addresses.push(parsePeerAddress(url));
        } catch (err) {
          this.logger.warn({ peer: id, url, reason: (err as Error).message }, 'peer address ignored');
        }
      }
      next.set(id, addresses);
    }
    for (const [id, link] of this.links) {
      const addresses = next.get(id);
      if (addresses === undefined || addresses.length === 0) {
        link.close();
        this.links.delete(id);
      } else {
        link.setAddresses(addresses);
      }
    }
    this.peers = next;
  }

  send(messages: readonly Message[]): void {
    for (const message of messages) {
      const link = this.linkTo(message.to);
      if (link === undefined) this.counters.dropped++;
      else link.enqueue(message);
    }
  }

  async sendSnapshot(message: Message, data: AsyncIterable<Uint8Array>): Promise<void> {
    const self = this.self;
    if (self === undefined || this.stopping !== undefined) throw new Error('TcpTransport is not running');
    const address = this.peers.get(message.to)?.[0];
    if (address === undefined) throw new Error(`snapshot to ${message.to} failed: unknown peer`);
    try {
      await sendSnapshotOver(message, data, {
        self,
        clusterId: () => this.clusterId,
        address,
        sockets: this.peerSockets,
        chunkBytes: this.snapshotChunkBytes,
        idleTimeoutMs: this.snapshotIdleTimeoutMs,
        track: (socket) => this.track(socket),
        ...(this.network === undefined ? {} : { sent: this.network.link(self, message.to).sentBytes }),
      });
      this.counters.snapshotsSent++;
    } catch (err) {
      this.counters.snapshotsFailed++;
      this.logger.warn({ peer: message.to, index: message.snapshot?.index, reason: (err as Error).message }, 'snapshot transfer failed');
      throw err;
    }
  }

  /** A copy of the counters. */
  metrics(): TransportMetrics {
    return { ...this.counters };
  }

  /** What waits in the queue to `peer` (none when there is no link to it). */
  queued(peer: MemberId): { readonly messages: number; readonly bytes: number } {
    const link = this.links.get(peer);
    return { messages: link?.queued ?? 0, bytes: link?.queuedBytes ?? 0 };
  }

  stop(): Promise<void> {
    this.stopping ??= this.close();
    return this.stopping;
  }

  private async close(): Promise<void> {
    clearInterval(this.sweep);
    for (const link of this.links.values()) link.close();
    this.links.clear();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    const server = this.server;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
    this.logger.info({ member: this.self }, 'peer transport stopped');
  }

  /**
   * A member that does not know its cluster yet joins the cluster of the first peer that dials it,
   * when that peer is one it was told of and the connection is addressed to it.
   */
  private adoptClusterOf(hello: Hello): boolean {
    if (this.clusterId !== '' || hello.version !== PROTOCOL_VERSION || hello.clusterId === '' || hello.to !== this.self || !this.peers.has(hello.from))
      return false;
    this.clusterId = hello.clusterId;
    this.logger.info({ cluster: hello.clusterId, from: hello.from }, 'learned the cluster ID from a peer');
    this.handler?.onClusterId?.(hello.clusterId);
    return true;
  }

  /**
   * Every probe interval, a connection to each known peer that has none (etcd keeps a stream to
   * every peer): a follower's link to another follower is up when it becomes leader, and every
   * peer's round trip and liveness are measured. Not before the cluster is known (peers would
   * refuse), and not at start, when peers starting beside this member would refuse the attempt.
   */
  private connectAll(): void {
    if (this.self === undefined || this.clusterId === '' || this.stopping !== undefined) return;
    for (const peer of this.peers.keys()) if (peer !== this.self) this.linkTo(peer)?.connectIfIdle();
  }

  private linkTo(peer: MemberId): PeerLink | undefined {
    if (this.self === undefined || this.stopping !== undefined) return undefined;
    let link = this.links.get(peer);
    if (link === undefined) {
      const addresses = this.peers.get(peer);
      if (addresses === undefined || addresses.length === 0) return undefined;
      link = new PeerLink({
        self: this.self,
        peer,
        clusterId: () => this.clusterId,
        queueSize: this.queueSize,
        queueBytes: this.queueBytes,
        releaseQueueAfterMs: this.releaseQueueAfterMs,
        readTimeoutMs: this.readTimeoutMs,
        writeTimeoutMs: this.writeTimeoutMs,
        backoff: this.backoff,
        logger: this.logger,
        metrics: this.counters,
        sockets: this.peerSockets,
        ...(this.network === undefined ? {} : { series: this.network.link(this.self, peer) }),
        probeIntervalMs: this.probeIntervalMs,
      });
      link.setAddresses(addresses);
      this.links.set(peer, link);
    }
    return link;
  }

  /** Remember a socket until it closes, so stop() can destroy it. Returns the forget function. */
  private track(socket: Socket): () => void {
    if (this.stopping !== undefined) socket.destroy();
    this.sockets.add(socket);
    const forget = (): void => {
      this.sockets.delete(socket);
    };
    socket.once('close', forget);
    return forget;
  }
}
