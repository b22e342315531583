import { randomInt } from 'node:crypto';
import { inject, injectable, optional } from 'inversify';
import type { Logger, LogFields, MemberId, Message, Transport, TransportHandler } from '@cairn/core';
import type { EnvelopeHeader } from './envelope.js';
import { FragmentAssembler } from './fragment-assembler.js';
import { InboundDispatcher } from './inbound-dispatcher.js';
import { MemberSubjects } from './member-subject.js';
import { MemberSubscription } from './member-subscription.js';
import { NatsConnection, type ConnectionState } from './nats-connection.js';
import { clientOptionsOf, payloadLimit, withDefaults, type NatsTransportOptions, type ResolvedNatsTransportOptions } from './nats-transport-options.js';
import { countersOf, NatsTransportStats, type NatsTransportCounters } from './nats-transport-stats.js';
import { PeerOutbox } from './peer-outbox.js';
import { SnapshotReceiver } from './snapshot-receiver.js';
import { OutgoingSnapshot } from './snapshot-sender.js';
import { NATS_TRANSPORT_LOGGER, NATS_TRANSPORT_OPTIONS } from './tokens.js';

const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: (_fields: LogFields) => silentLogger,
};

/** A peer's subject, or why it has none. */
type PeerSubject = { readonly subject: string } | { readonly unusable: string };

/**
 * The Raft peer transport over NATS. The member subscribes to its own subject
 * (`<prefix>.<cluster token>.<name>`, from its `nats://name` peer URL) and publishes to its peers'
 * subjects: Raft messages batched per peer and turn of the event loop, in envelopes that name the
 * sender and the cluster; snapshots as acknowledged chunks under the server's max_payload. One
 * NATS connection carries it all, kept up (and re-subscribed) by the transport.
 */
@injectable()
export class NatsTransport implements Transport {
  private readonly options: ResolvedNatsTransportOptions;
  private readonly subjects: MemberSubjects;
  private readonly incarnation = randomInt(0, 0x1_0000_0000);
  private readonly outboxes = new Map<MemberId, PeerOutbox>();
  private readonly outgoingSnapshots = new Set<OutgoingSnapshot>();
  /** Peers already warned about for having no nats:// peer URL (once each, not per setPeers). */
  private readonly warnedUnusable = new Set<MemberId>();
  private peers = new Map<MemberId, PeerSubject>();
  private self: MemberId | undefined;
  private clusterId = '';
  private handler: TransportHandler | undefined;
  private connection: NatsConnection | undefined;
  private subscription: MemberSubscription | undefined;
  private snapshots: SnapshotReceiver | undefined;
  private assembler: FragmentAssembler | undefined;
  private messageNumber = 0;
  private stopping: Promise<void> | undefined;

  constructor(
    @inject(NATS_TRANSPORT_OPTIONS) options: NatsTransportOptions,
    @inject(NATS_TRANSPORT_LOGGER) @optional() private readonly logger: Logger = silentLogger,
    @inject(NatsTransportStats) @optional() private readonly counters: NatsTransportStats = new NatsTransportStats(),
  ) {
    this.options = withDefaults(options);
    this.subjects = new MemberSubjects(this.options.subjectPrefix, this.options.clusterToken);
  }

  async start(self: MemberId, handler: TransportHandler, clusterId?: string): Promise<void> {
    if (this.connection !== undefined || this.stopping !== undefined)
      throw new Error('NatsTransport: start() called twice; create a new transport per incarnation');
    const own = this.options.listen.map((url) => this.subjects.of(url));
    if (own.length === 0) throw new Error('NatsTransport: this member has no nats:// peer URL to listen on');
    this.self = self;
    this.handler = handler;
    this.clusterId = clusterId ?? this.options.clusterId ?? '';
    const { logger, counters: stats } = this;
    const connected = (): ReturnType<NatsConnection['current']> => this.connection?.current();
    this.snapshots = new SnapshotReceiver({
      handler: () => (this.stopping === undefined ? this.handler : undefined),
      client: connected,
      header: (to) => this.header(to),
      keepaliveMs: Math.max(50, Math.floor(this.options.snapshotRetransmitMs / 2)),
      idleTimeoutMs: this.options.snapshotIdleTimeoutMs,
      stats,
      logger,
    });
    this.assembler = new FragmentAssembler(this.options.maxMessageBytes, (sender, reason) => {
      stats.brokenFragmentedMessages++;
      logger.warn({ from: sender, reason }, 'a fragmented message lost pieces; dropped');
    });
    const dispatcher = new InboundDispatcher({
      self,
      clusterId: () => this.clusterId,
      adoptClusterOf: (header) => this.adoptClusterOf(header),
      handler,
      assembler: this.assembler,
      snapshots: this.snapshots,
      stats,
      logger,
    });
    const subscription = new MemberSubscription(
      own,
      (inbound) => dispatcher.dispatch(inbound),
      { initialMs: this.options.resubscribeInitialMs, maxMs: 5_000 },
      logger,
      stats,
    );
    this.subscription = subscription;
    const connection = new NatsConnection(
      clientOptionsOf(this.options),
      {
        connected: (client) => {
          subscription.attach(client);
          this.kickOutboxes();
        },
        reconnected: () => this.kickOutboxes(),
      },
      logger,
      stats,
    );
    this.connection = connection;
    await connection.start();
    // The server has our subscriptions once it answers a ping: peers' messages from now on reach us.
    await connection
      .current()
      ?.flush()
      .catch(() => undefined);
    logger.info({ member: self, subjects: own, server: stats.server, state: connection.state }, 'peer transport listening on NATS');
  }

  setPeers(peers: ReadonlyMap<MemberId, readonly string[]>): void {
    const next = new Map<MemberId, PeerSubject>();
    for (const [id, urls] of peers) {
      if (id === this.self) continue;
      next.set(id, this.subjectOf(id, urls));
    }
    for (const [id, outbox] of this.outboxes) {
      const target = next.get(id);
      if (target === undefined || !('subject' in target)) {
        outbox.close();
        this.outboxes.delete(id);
      }
    }
    this.peers = next;
  }

  send(messages: readonly Message[]): void {
    for (const message of messages) {
      const outbox = this.outboxTo(message.to);
      if (outbox === undefined) this.counters.dropped(message.to);
      else outbox.enqueue(message);
    }
  }

  async sendSnapshot(message: Message, data: AsyncIterable<Uint8Array>): Promise<void> {
    const client = this.connection?.any();
    if (this.self === undefined || this.stopping !== undefined || client === undefined) {
      throw new Error(this.stopping === undefined && this.self !== undefined ? 'NatsTransport is not connected to NATS yet' : 'NatsTransport is not running');
    }
    const peer = this.peers.get(message.to);
    if (peer === undefined || !('subject' in peer)) throw new Error(`snapshot to ${message.to} failed: ${peer === undefined ? 'unknown peer' : peer.unusable}`);
    const transfer = new OutgoingSnapshot(
      message,
      {
        peer: message.to,
        subject: peer.subject,
        header: () => this.header(message.to),
        client: () => this.connection?.current(),
        payloadLimit: () => this.payloadLimit(),
        chunkBytes: this.options.snapshotChunkBytes ?? Number.MAX_SAFE_INTEGER,
        window: this.options.snapshotWindow,
        retransmitMs: this.options.snapshotRetransmitMs,
        idleTimeoutMs: this.options.snapshotIdleTimeoutMs,
        stats: this.counters,
        logger: this.logger,
      },
      client,
    );
    this.outgoingSnapshots.add(transfer);
    try {
      await transfer.send(data);
    } finally {
      this.outgoingSnapshots.delete(transfer);
    }
  }

  /** A copy of the counters. */
  stats(): NatsTransportCounters {
    return countersOf(this.counters);
  }

  connectionState(): ConnectionState | 'stopped' {
    return this.stopping !== undefined ? 'stopped' : (this.connection?.state ?? 'connecting');
  }

  stop(): Promise<void> {
    this.stopping ??= this.close();
    return this.stopping;
  }

  private async close(): Promise<void> {
    for (const outbox of this.outboxes.values()) outbox.close();
    this.outboxes.clear();
    for (const transfer of this.outgoingSnapshots) transfer.cancel('the transport stopped');
    this.snapshots?.stop();
    this.assembler?.clear();
    this.subscription?.stop();
    await this.connection?.stop();
    if (this.self !== undefined) this.logger.info({ member: this.self }, 'peer transport stopped');
  }

  private subjectOf(id: MemberId, urls: readonly string[]): PeerSubject {
    const problems: string[] = [];
    for (const url of urls) {
      try {
        return { subject: this.subjects.of(url) };
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
    const unusable = urls.length === 0 ? 'no peer URL known yet' : `no NATS peer URL: ${problems.join('; ')}`;
    if (urls.length > 0 && !this.warnedUnusable.has(id)) {
      this.warnedUnusable.add(id);
      this.logger.warn({ peer: id, urls, reason: unusable }, 'peer unreachable over NATS: its peer URLs are not nats://<name>');
    }
    return { unusable };
  }

  private outboxTo(peer: MemberId): PeerOutbox | undefined {
    if (this.self === undefined || this.stopping !== undefined) return undefined;
    let outbox = this.outboxes.get(peer);
    if (outbox !== undefined) return outbox;
    const target = this.peers.get(peer);
    if (target === undefined || !('subject' in target)) return undefined;
    outbox = new PeerOutbox({
      peer,
      queueSize: this.options.queueSize,
      header: () => this.header(peer),
      subject: () => {
        const current = this.peers.get(peer);
        return current !== undefined && 'subject' in current ? current.subject : undefined;
      },
      client: () => this.connection?.current(),
      payloadLimit: () => this.payloadLimit(),
      nextMessageNumber: () => (this.messageNumber = (this.messageNumber + 1) >>> 0),
      stats: this.counters,
      logger: this.logger,
    });
    this.outboxes.set(peer, outbox);
    return outbox;
  }

  private kickOutboxes(): void {
    for (const outbox of this.outboxes.values()) outbox.kick();
  }

  private header(to: MemberId): EnvelopeHeader {
    return { clusterId: this.clusterId, from: this.self ?? '', to, incarnation: this.incarnation };
  }

  private payloadLimit(): number {
    return payloadLimit(this.connection?.any()?.maxPayload(), this.options);
  }

  /** A member that does not know its cluster yet joins that of the first known peer that writes to it. */
  private adoptClusterOf(header: EnvelopeHeader): boolean {
    if (this.clusterId !== '' || header.clusterId === '' || header.to !== this.self || !this.peers.has(header.from)) return false;
    this.clusterId = header.clusterId;
    this.logger.info({ cluster: header.clusterId, from: header.from }, 'learned the cluster ID from a peer');
    this.handler?.onClusterId?.(header.clusterId);
    return true;
  }
}
