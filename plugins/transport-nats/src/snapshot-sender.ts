import { createHash, randomBytes } from 'node:crypto';
import type { Logger, MemberId, Message } from '@cairn/core';
import { decodeEnvelope, EnvelopeKind, type EnvelopeHeader } from './envelope.js';
import type { NatsClient, NatsInbound, NatsSubscriptionHandle } from './nats-client.js';
import type { NatsTransportStats } from './nats-transport-stats.js';
import {
  chunkOverhead,
  encodeSnapshotAbort,
  encodeSnapshotBegin,
  encodeSnapshotChunk,
  encodeSnapshotEnd,
  readSnapshotAck,
  SnapshotVerdict,
} from './snapshot-wire.js';

export interface SnapshotSendContext {
  readonly peer: MemberId;
  /** The peer's subject. */
  readonly subject: string;
  readonly header: () => EnvelopeHeader;
  /** The client while connected; undefined while it reconnects (chunks then wait to be resent). */
  readonly client: () => NatsClient | undefined;
  /** Largest NATS message (the server's max_payload, or less). */
  readonly payloadLimit: () => number;
  /** Largest chunk the options allow (the payload limit may make it smaller). */
  readonly chunkBytes: number;
  /** Chunks sent and not yet taken by the receiver's store. */
  readonly window: number;
  /** Without progress for this long, unacknowledged chunks (or the begin, or the end) are sent again. */
  readonly retransmitMs: number;
  /** Without a word from the receiver for this long, the transfer fails. */
  readonly idleTimeoutMs: number;
  readonly stats: NatsTransportStats;
  readonly logger: Logger;
}

/** Room left in each chunk envelope for the header (IDs are short; this is generous). */
const ENVELOPE_ROOM = 512;

interface SentChunk {
  readonly sequence: number;
  readonly envelope: Buffer;
}

/**
 * One snapshot, streamed to one peer: Begin, then chunks under the payload limit with at most
 * `window` of them not yet taken by the receiver's store, then End with the stream's SHA-256; the
 * receiver's verdict settles it. Lost chunks are sent again from the first one the receiver lacks
 * (it says so, or the retransmit timer finds out). The source is read only as the window opens, so
 * neither side ever holds more than the window.
 */
export class OutgoingSnapshot {
  readonly transferId = randomBytes(8).toString('hex');
  private readonly inbox: string;
  private readonly subscription: NatsSubscriptionHandle;
  private readonly sent: SentChunk[] = [];
  private nextSequence = 0;
  /** Chunks the receiver has in order, and chunks its store took (both from its acks). */
  private received = 0;
  private consumed = 0;
  private accepted = false;
  private resendAsked = false;
  private lastHeardAt = Date.now();
  private lastProgressAt = Date.now();
  private outcome: { stored: true } | { stored: false; reason: string } | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly message: Message,
    private readonly context: SnapshotSendContext,
    client: NatsClient,
  ) {
    this.inbox = client.createInbox();
    this.subscription = client.subscribe(
      this.inbox,
      (reply) => this.onReply(reply),
      (detail) => this.fail(`the reply subscription failed: ${detail}`),
    );
  }

  /** Resolves once the receiver stored the snapshot; rejects with why not. */
  async send(data: AsyncIterable<Uint8Array>): Promise<void> {
    const began = Date.now();
    const { stats, logger, peer } = this.context;
    stats.snapshotSendsInFlight++;
    try {
      await this.run(data);
      stats.snapshotsSent++;
      logger.info({ peer, index: this.message.snapshot?.index, chunks: this.nextSequence, ms: Date.now() - began }, 'snapshot sent');
    } catch (err) {
      stats.snapshotsFailed++;
      logger.warn({ peer, index: this.message.snapshot?.index, reason: (err as Error).message }, 'snapshot transfer failed');
      throw err;
    } finally {
      stats.snapshotSendsInFlight--;
      this.subscription.unsubscribe();
    }
  }

  /** Stop the transfer (the transport stops). */
  cancel(reason: string): void {
    this.fail(reason);
  }

  private async run(data: AsyncIterable<Uint8Array>): Promise<void> {
    const begin = encodeSnapshotBegin(this.context.header(), this.transferId, this.message);
    this.publish(begin);
    while (!this.accepted && this.outcome === undefined) await this.waitForProgress(() => this.publish(begin));
    if (this.outcome !== undefined) return this.verdict();

    const chunkBytes = Math.max(1024, Math.min(this.context.chunkBytes, this.context.payloadLimit() - chunkOverhead(this.transferId) - ENVELOPE_ROOM));
    const hash = createHash('sha256');
    let totalBytes = 0;
    try {
      for await (const block of data) {
        for (let offset = 0; offset < block.byteLength; offset += chunkBytes) {
          while (this.outcome === undefined && this.nextSequence - this.consumed >= this.context.window) await this.waitForProgress();
          if (this.outcome !== undefined) break;
          const piece = block.subarray(offset, Math.min(block.byteLength, offset + chunkBytes));
          hash.update(piece);
          totalBytes += piece.byteLength;
          const chunk = { sequence: this.nextSequence++, envelope: encodeSnapshotChunk(this.context.header(), this.transferId, this.nextSequence - 1, piece) };
          this.sent.push(chunk);
          this.publish(chunk.envelope);
        }
        if (this.outcome !== undefined) break;
      }
    } catch (err) {
      const reason = `reading the snapshot failed: ${(err as Error).message}`;
      this.publish(encodeSnapshotAbort(this.context.header(), this.transferId, reason));
      throw new Error(`snapshot to ${this.context.peer}: ${reason}`, { cause: err });
    }
    if (this.outcome === undefined) {
      const end = encodeSnapshotEnd(this.context.header(), { transferId: this.transferId, chunkCount: this.nextSequence, totalBytes, sha256: hash.digest() });
      this.publish(end);
      while (this.outcome === undefined) await this.waitForProgress(() => this.publish(end));
    }
    return this.verdict();
  }

  private verdict(): void {
    if (this.outcome === undefined) throw new Error('the transfer has no verdict yet');
    if (!this.outcome.stored) throw new Error(`snapshot to ${this.context.peer} failed: ${this.outcome.reason}`);
  }

  /**
   * Waits for the receiver to say something (or `retransmitMs`), then repairs: sends again what it
   * lacks. `resendLast` re-sends the begin or the end when all chunks are in. Fails the transfer
   * once the receiver has been silent for `idleTimeoutMs`.
   */
  private async waitForProgress(resendLast?: () => void): Promise<void> {
    if (this.outcome !== undefined) return;
    const { retransmitMs, idleTimeoutMs, peer } = this.context;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, retransmitMs);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
    if (this.outcome !== undefined) return;
    const now = Date.now();
    if (now - this.lastHeardAt > idleTimeoutMs) {
      this.fail(`no answer from ${peer} for ${idleTimeoutMs} ms`);
      return;
    }
    const stalled = now - this.lastProgressAt >= retransmitMs;
    if (this.resendAsked || (stalled && this.received < this.nextSequence)) {
      this.resendAsked = false;
      this.lastProgressAt = now;
      this.resendFrom(this.received);
    } else if (stalled && resendLast !== undefined) {
      this.lastProgressAt = now;
      resendLast();
    }
  }

  private resendFrom(sequence: number): void {
    for (const chunk of this.sent) {
      if (chunk.sequence < sequence) continue;
      this.context.stats.snapshotChunksResent++;
      this.publish(chunk.envelope);
    }
  }

  private publish(envelope: Buffer): void {
    const client = this.context.client();
    // Not connected: what is not sent now is sent again when the timer finds no progress.
    if (client === undefined) return;
    try {
      client.publish(this.context.subject, envelope, this.inbox);
      this.context.stats.peer(this.context.peer).sentBytes += envelope.byteLength;
    } catch (err) {
      this.context.logger.debug({ peer: this.context.peer, error: (err as Error).message }, 'snapshot publish failed; will resend');
    }
  }

  private onReply(reply: NatsInbound): void {
    if (reply.status === 503) {
      // Before the receiver accepted: nobody runs there, fail fast. After: it was there and is
      // subscribing again (both reconnected after a nats-server restart, the receiver later);
      // the retransmit timer sends again, and the idle timeout bounds the wait.
      if (!this.accepted) this.fail(`no member subscribes to ${this.context.subject} (is ${this.context.peer} running?)`);
      return;
    }
    let ack;
    try {
      const envelope = decodeEnvelope(reply.data);
      if (envelope.kind !== EnvelopeKind.SnapshotAck || envelope.header.from !== this.context.peer) return;
      ack = readSnapshotAck(envelope.body);
    } catch {
      return;
    }
    if (ack.transferId !== this.transferId) return;
    this.lastHeardAt = Date.now();
    this.accepted = true;
    if (ack.received > this.received) {
      this.received = ack.received;
      this.lastProgressAt = this.lastHeardAt;
    }
    if (ack.consumed > this.consumed) {
      this.consumed = ack.consumed;
      // Chunks the store took are never needed again.
      while (this.sent.length > 0 && this.sent[0]!.sequence < this.consumed) this.sent.shift();
    }
    if (ack.verdict === SnapshotVerdict.Stored) this.settle({ stored: true });
    else if (ack.verdict === SnapshotVerdict.Refused) this.fail(`refused by the receiver: ${ack.reason}`);
    else if (ack.verdict === SnapshotVerdict.Resend) this.resendAsked = true;
    this.wake?.();
  }

  private fail(reason: string): void {
    this.settle({ stored: false, reason });
  }

  private settle(outcome: { stored: true } | { stored: false; reason: string }): void {
    if (this.outcome !== undefined) return;
    this.outcome = outcome;
    this.wake?.();
  }
}
