import { decodeRaftMessage, WireError, type Logger, type MemberId, type Message, type TransportHandler } from '@cairn/core';
import { decodeEnvelope, EnvelopeKind, type DecodedEnvelope, type EnvelopeHeader } from './envelope.js';
import type { FragmentAssembler } from './fragment-assembler.js';
import { readBatch, readFragment } from './message-batch.js';
import type { NatsInbound } from './nats-client.js';
import type { NatsTransportStats } from './nats-transport-stats.js';
import type { SnapshotReceiver } from './snapshot-receiver.js';
import { readSnapshotAbort, readSnapshotBegin, readSnapshotChunk, readSnapshotEnd } from './snapshot-wire.js';

export interface InboundContext {
  readonly self: MemberId;
  /** The cluster senders must belong to; '' until a joining member learned it. */
  readonly clusterId: () => string;
  /** A joining member takes the cluster of a known peer that writes to it; true when it did. */
  readonly adoptClusterOf: (header: EnvelopeHeader) => boolean;
  readonly handler: TransportHandler;
  readonly assembler: FragmentAssembler;
  readonly snapshots: SnapshotReceiver;
  readonly stats: NatsTransportStats;
  readonly logger: Logger;
}

/** Log a refusal once per sender and reason in this window, and count every one. */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

/**
 * Everything that arrives on the member's subject: checked (a Cairn envelope, addressed to this
 * member, from this cluster), then handed on: Raft messages to the handler, fragments to the
 * assembler, snapshot traffic to the receiver. Anything else is dropped and counted; a bad
 * envelope never affects the next one.
 */
export class InboundDispatcher {
  private readonly lastLogged = new Map<string, number>();

  constructor(private readonly context: InboundContext) {}

  dispatch(inbound: NatsInbound): void {
    let envelope: DecodedEnvelope;
    try {
      envelope = decodeEnvelope(inbound.data);
    } catch (err) {
      this.refuse('malformed', undefined, (err as Error).message);
      return;
    }
    const { header } = envelope;
    const refusal = this.refusalOf(header);
    if (refusal !== undefined) {
      this.refuse(refusal.reason, header.from, refusal.detail);
      return;
    }
    this.context.stats.peer(header.from).receivedBytes += inbound.data.byteLength;
    try {
      this.route(envelope, inbound.reply);
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
      this.refuse('malformed', header.from, err.message);
    }
  }

  private refusalOf(header: EnvelopeHeader): { reason: 'foreign-cluster' | 'misaddressed'; detail: string } | undefined {
    const { self } = this.context;
    // A member that does not know its ID yet learns it from the first member addressing it (refused below all the same).
    if (self === '' && header.to !== '' && header.clusterId !== '') this.context.handler.onAddressed?.(header.to, header.clusterId, header.from);
    if (header.to !== self) return { reason: 'misaddressed', detail: `addressed to member ${header.to}, this is member ${self}` };
    if (this.context.clusterId() === '') this.context.adoptClusterOf(header);
    const clusterId = this.context.clusterId();
    if (header.clusterId !== clusterId) {
      return {
        reason: 'foreign-cluster',
        detail: `cluster ID mismatch: member ${header.from} is in cluster ${header.clusterId}, this member is in cluster ${clusterId}`,
      };
    }
    return undefined;
  }

  private route(envelope: DecodedEnvelope, reply: string | undefined): void {
    const { header, body } = envelope;
    const { snapshots, assembler } = this.context;
    switch (envelope.kind) {
      case EnvelopeKind.Messages:
        for (const message of readBatch(body)) this.deliver(header, message);
        return;
      case EnvelopeKind.Fragment: {
        const encoded = assembler.add(header.from, header.incarnation, readFragment(body));
        if (encoded !== undefined) this.deliver(header, decodeRaftMessage(encoded));
        return;
      }
      case EnvelopeKind.SnapshotBegin: {
        const { transferId, snap } = readSnapshotBegin(body);
        this.checkAddress(header, snap);
        snapshots.begin(header, transferId, snap, reply);
        return;
      }
      case EnvelopeKind.SnapshotChunk: {
        const { transferId, sequence, bytes } = readSnapshotChunk(body);
        snapshots.chunk(header, transferId, sequence, bytes, reply);
        return;
      }
      case EnvelopeKind.SnapshotEnd:
        snapshots.end(header, readSnapshotEnd(body), reply);
        return;
      case EnvelopeKind.SnapshotAbort: {
        const { transferId, reason } = readSnapshotAbort(body);
        snapshots.abort(header, transferId, reason);
        return;
      }
      case EnvelopeKind.SnapshotAck:
        throw new WireError('a snapshot ack on a member subject (acks go to reply subjects)');
    }
  }

  /** A message inside must be the envelope's: from its sender, to this member. */
  private checkAddress(header: EnvelopeHeader, message: Message): void {
    if (message.from !== header.from) throw new WireError(`message from ${message.from} in an envelope from ${header.from}`);
    if (message.to !== this.context.self) throw new WireError(`message for ${message.to} delivered to ${this.context.self}`);
  }

  private deliver(header: EnvelopeHeader, message: Message): void {
    this.checkAddress(header, message);
    this.context.stats.receivedMessages++;
    try {
      this.context.handler.onMessage(message);
    } catch (err) {
      this.context.logger.error({ from: message.from, type: message.type, error: (err as Error).message }, 'message handler threw; message lost');
    }
  }

  private refuse(reason: 'malformed' | 'foreign-cluster' | 'misaddressed', from: MemberId | undefined, detail: string): void {
    this.context.stats.refuse(reason, from);
    const key = `${from ?? '?'}/${reason}`;
    const now = Date.now();
    if (now - (this.lastLogged.get(key) ?? 0) < REFUSAL_LOG_INTERVAL_MS) return;
    this.lastLogged.set(key, now);
    if (this.lastLogged.size > 1000) this.lastLogged.clear();
    const fields = { from, reason: detail };
    if (reason === 'malformed') this.context.logger.warn(fields, 'dropped a message on the member subject that is not a Cairn envelope');
    else this.context.logger.error(fields, `dropped a message from ${reason === 'foreign-cluster' ? 'another cluster' : 'a member that meant someone else'}`);
  }
}
