import { BoundedQueue, encodeRaftMessage, type Logger, type MemberId, type Message } from '@cairn/core';
import { envelopeHeaderSize, type EnvelopeHeader } from './envelope.js';
import { BATCH_OVERHEAD, batchedSize, encodeBatch, encodeFragment, FRAGMENT_OVERHEAD } from './message-batch.js';
import type { NatsClient } from './nats-client.js';
import type { NatsTransportStats } from './nats-transport-stats.js';

export interface PeerOutboxContext {
  readonly peer: MemberId;
  readonly queueSize: number;
  /** Read at each flush: a joining member learns its cluster ID after its outboxes exist. */
  readonly header: () => EnvelopeHeader;
  /** The peer's subject; undefined when none of its peer URLs is a NATS one. */
  readonly subject: () => string | undefined;
  /** The client while connected, else undefined (messages then wait in the queue). */
  readonly client: () => NatsClient | undefined;
  /** Largest NATS message: the server's max_payload, or less if the options say so. */
  readonly payloadLimit: () => number;
  readonly nextMessageNumber: () => number;
  readonly stats: NatsTransportStats;
  readonly logger: Logger;
}

/**
 * Raft messages on their way to one peer: a bounded queue, flushed once per turn of the event
 * loop into as few NATS messages as fit under the payload limit (a message too big for one is
 * cut into fragments). While the connection is down the queue holds what it can and drops the
 * rest, counted; Raft resends what matters.
 */
export class PeerOutbox {
  private readonly queue: BoundedQueue<Message>;
  private flushScheduled = false;
  private closed = false;
  /** Publish failures since the last success, to log a streak once. */
  private failures = 0;

  constructor(private readonly context: PeerOutboxContext) {
    this.queue = new BoundedQueue<Message>(context.queueSize);
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Queue `message`; when the queue is full it is dropped and counted. Never blocks. */
  enqueue(message: Message): void {
    if (this.closed || !this.queue.push(message)) {
      this.context.stats.dropped(this.context.peer);
      return;
    }
    this.scheduleFlush();
  }

  /** Send what waits (the connection is back). */
  kick(): void {
    if (this.queue.length > 0) this.scheduleFlush();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.context.stats.dropped(this.context.peer, this.queue.clear());
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.queue.length === 0) return;
    const { stats, peer } = this.context;
    const subject = this.context.subject();
    if (subject === undefined) {
      stats.dropped(peer, this.queue.clear());
      return;
    }
    const client = this.context.client();
    if (client === undefined) return;
    const header = this.context.header();
    const budget = this.context.payloadLimit() - envelopeHeaderSize(header);
    let batch: Uint8Array[] = [];
    let batchBytes = BATCH_OVERHEAD;
    const sendBatch = (): void => {
      if (batch.length === 0) return;
      this.publish(client, subject, encodeBatch(header, batch), batch.length);
      batch = [];
      batchBytes = BATCH_OVERHEAD;
    };
    for (let message = this.queue.shift(); message !== undefined; message = this.queue.shift()) {
      let encoded: Buffer;
      try {
        encoded = encodeRaftMessage(message);
      } catch (err) {
        stats.dropped(peer);
        this.context.logger.error({ peer, type: message.type, error: (err as Error).message }, 'message cannot be encoded; dropped');
        continue;
      }
      const size = batchedSize(encoded);
      if (BATCH_OVERHEAD + size > budget) {
        sendBatch();
        this.sendFragments(client, subject, header, encoded, budget - FRAGMENT_OVERHEAD);
        continue;
      }
      if (batchBytes + size > budget) sendBatch();
      batch.push(encoded);
      batchBytes += size;
    }
    sendBatch();
  }

  /** One message in pieces of at most `pieceBytes`; the receiver joins them (or drops them all if one is lost). */
  private sendFragments(client: NatsClient, subject: string, header: EnvelopeHeader, encoded: Buffer, pieceBytes: number): void {
    const messageNumber = this.context.nextMessageNumber();
    for (let offset = 0; offset < encoded.byteLength; offset += pieceBytes) {
      const piece = encoded.subarray(offset, Math.min(encoded.byteLength, offset + pieceBytes));
      const last = offset + pieceBytes >= encoded.byteLength;
      // The message counts as sent (or dropped) once, with its last piece.
      if (!this.publish(client, subject, encodeFragment(header, { messageNumber, totalBytes: encoded.byteLength, offset, piece }), last ? 1 : 0)) {
        if (!last) this.context.stats.dropped(this.context.peer);
        return;
      }
    }
  }

  /** False when the client refused the publish (the connection closed under us, or the payload is over the limit). */
  private publish(client: NatsClient, subject: string, envelope: Buffer, messages: number): boolean {
    const { stats, peer, logger } = this.context;
    try {
      client.publish(subject, envelope);
    } catch (err) {
      stats.dropped(peer, messages);
      if (this.failures++ === 0)
        logger.warn({ peer, subject, bytes: envelope.byteLength, error: (err as Error).message }, 'publish to a peer failed; messages dropped');
      return false;
    }
    if (this.failures > 0) logger.info({ peer, after: this.failures }, 'publishing to the peer works again');
    this.failures = 0;
    stats.sentMessages += messages;
    stats.peer(peer).sentBytes += envelope.byteLength;
    return true;
  }
}
