import { createHash, type Hash } from 'node:crypto';
import { SnapshotInbox, type Logger, type MemberId, type Message, type TransportHandler } from '@cairn/core';
import type { EnvelopeHeader } from './envelope.js';
import type { NatsClient } from './nats-client.js';
import type { NatsTransportStats } from './nats-transport-stats.js';
import { encodeSnapshotAck, SnapshotVerdict, type SnapshotAck, type SnapshotEnd } from './snapshot-wire.js';

export interface SnapshotReceiverContext {
  readonly handler: () => TransportHandler | undefined;
  /** The client while connected (acks wait for the next keepalive otherwise). */
  readonly client: () => NatsClient | undefined;
  /** The envelope header of what this member sends to `to`. */
  readonly header: (to: MemberId) => EnvelopeHeader;
  /** Progress acks go out this often while a transfer runs: lost acks are repaired and the sender knows the receiver lives. */
  readonly keepaliveMs: number;
  /** A transfer with no chunk for this long (before its end) fails. */
  readonly idleTimeoutMs: number;
  readonly stats: NatsTransportStats;
  readonly logger: Logger;
}

interface IncomingTransfer {
  readonly key: string;
  readonly id: string;
  readonly from: MemberId;
  readonly snapIndex: number;
  replyTo: string;
  readonly inbox: SnapshotInbox;
  readonly hash: Hash;
  /** Chunks received in order (the next sequence number expected). */
  received: number;
  /** Chunks the store has taken. */
  consumed: number;
  bytes: number;
  endSeen: boolean;
  lastChunkAt: number;
  lastResendAskAt: number;
}

/** Verdicts kept for transfers that ended, so a sender whose last ack got lost hears it again. */
const REMEMBERED_VERDICTS = 64;
/** Asks for a resend at most this often per transfer (every later chunk of a gap would ask again). */
const RESEND_ASK_INTERVAL_MS = 100;

/**
 * The receiving side of snapshot transfers: in-order chunks go to the handler's stream, a gap is
 * answered with "resend from here", acks release the sender's window as the store reads, and the
 * stream's SHA-256 is checked against the sender's before the stream ends. At most the sender's
 * window of chunks is held at once.
 */
export class SnapshotReceiver {
  private readonly active = new Map<string, IncomingTransfer>();
  private readonly finished = new Map<string, SnapshotAck & { replyTo: string }>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly context: SnapshotReceiverContext) {}

  begin(header: EnvelopeHeader, transferId: string, snap: Message, replyTo: string | undefined): void {
    const { stats, logger } = this.context;
    if (replyTo === undefined) {
      stats.refuse('malformed', header.from);
      logger.warn({ from: header.from }, 'snapshot begin without a reply subject; ignored');
      return;
    }
    const key = `${header.from}/${transferId}`;
    const running = this.active.get(key);
    if (running !== undefined) {
      running.replyTo = replyTo;
      this.ackProgress(running);
      return;
    }
    if (this.answerFinished(key, replyTo, header.from)) return;
    const handler = this.context.handler();
    if (handler === undefined || this.stopped || snap.from !== header.from || snap.snapshot === undefined) {
      this.send(header.from, replyTo, { transferId, verdict: SnapshotVerdict.Refused, received: 0, consumed: 0, reason: 'not a snapshot this member takes' });
      return;
    }
    const transfer: IncomingTransfer = {
      key,
      id: transferId,
      from: header.from,
      snapIndex: snap.snapshot.index,
      replyTo,
      inbox: new SnapshotInbox(),
      hash: createHash('sha256'),
      received: 0,
      consumed: 0,
      bytes: 0,
      endSeen: false,
      lastChunkAt: Date.now(),
      lastResendAskAt: 0,
    };
    this.active.set(key, transfer);
    stats.snapshotReceivesInFlight++;
    this.ensureTimer();
    logger.info({ from: header.from, index: transfer.snapIndex, transfer: transferId }, 'receiving a snapshot');
    let handled: Promise<void>;
    try {
      handled = handler.onSnapshot(snap, transfer.inbox);
    } catch (err) {
      handled = Promise.reject(err);
    }
    handled.then(
      () => this.settle(transfer, SnapshotVerdict.Stored, ''),
      (err: unknown) => this.settle(transfer, SnapshotVerdict.Refused, err instanceof Error ? err.message : String(err)),
    );
    this.ackProgress(transfer);
  }

  chunk(header: EnvelopeHeader, transferId: string, sequence: number, bytes: Uint8Array, replyTo: string | undefined): void {
    const key = `${header.from}/${transferId}`;
    const transfer = this.active.get(key);
    if (transfer === undefined) {
      if (replyTo !== undefined && !this.answerFinished(key, replyTo, header.from)) {
        // This member restarted, or never heard the begin: the sender should stop, not wait.
        this.send(header.from, replyTo, { transferId, verdict: SnapshotVerdict.Refused, received: 0, consumed: 0, reason: 'unknown snapshot transfer' });
      }
      return;
    }
    if (sequence !== transfer.received || transfer.endSeen) {
      // A duplicate, or a gap: chunks were lost. Say where this side stands.
      const now = Date.now();
      if (sequence > transfer.received && now - transfer.lastResendAskAt >= RESEND_ASK_INTERVAL_MS) {
        transfer.lastResendAskAt = now;
        this.ack(transfer, SnapshotVerdict.Resend);
      } else if (sequence < transfer.received) {
        this.ackProgress(transfer);
      }
      return;
    }
    // A copy: the client's read buffer is not ours to keep.
    const copy = Uint8Array.from(bytes);
    transfer.hash.update(copy);
    transfer.received++;
    transfer.bytes += copy.byteLength;
    transfer.lastChunkAt = Date.now();
    transfer.inbox.push(copy, () => {
      transfer.consumed++;
      this.ackProgress(transfer);
    });
  }

  end(header: EnvelopeHeader, end: SnapshotEnd, replyTo: string | undefined): void {
    const key = `${header.from}/${end.transferId}`;
    const transfer = this.active.get(key);
    if (transfer === undefined) {
      if (replyTo !== undefined) this.answerFinished(key, replyTo, header.from);
      return;
    }
    if (transfer.endSeen) {
      this.ackProgress(transfer);
      return;
    }
    if (transfer.received < end.chunkCount) {
      // The last chunks were lost.
      this.ack(transfer, SnapshotVerdict.Resend);
      return;
    }
    transfer.endSeen = true;
    const digest = transfer.hash.digest();
    if (transfer.received !== end.chunkCount || transfer.bytes !== end.totalBytes || !digest.equals(end.sha256)) {
      transfer.inbox.fail(
        new Error(
          `snapshot stream from ${transfer.from} is corrupt: got ${transfer.received} chunks, ${transfer.bytes} bytes, sha256 ${digest.toString('hex').slice(0, 16)}…; ` +
            `the sender sent ${end.chunkCount} chunks, ${end.totalBytes} bytes, sha256 ${Buffer.from(end.sha256).toString('hex').slice(0, 16)}…`,
        ),
      );
      return;
    }
    transfer.inbox.end();
    this.ackProgress(transfer);
  }

  abort(header: EnvelopeHeader, transferId: string, reason: string): void {
    const transfer = this.active.get(`${header.from}/${transferId}`);
    transfer?.inbox.fail(new Error(`the sender ${header.from} gave up the snapshot transfer: ${reason}`));
  }

  /** Fail every transfer in progress (the transport stops). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    for (const transfer of this.active.values()) transfer.inbox.fail(new Error('the transport stopped'));
  }

  private settle(transfer: IncomingTransfer, verdict: SnapshotVerdict.Stored | SnapshotVerdict.Refused, reason: string): void {
    if (this.active.get(transfer.key) !== transfer) return;
    this.active.delete(transfer.key);
    const { stats, logger } = this.context;
    stats.snapshotReceivesInFlight--;
    if (verdict === SnapshotVerdict.Stored) {
      stats.snapshotsReceived++;
      logger.info({ from: transfer.from, index: transfer.snapIndex, bytes: transfer.bytes }, 'snapshot received and stored');
    } else {
      stats.snapshotsRefused++;
      logger.warn({ from: transfer.from, index: transfer.snapIndex, reason }, 'snapshot refused by the handler');
    }
    // Anything still queued will not be read: release it.
    transfer.inbox.fail(new Error('the transfer is over'));
    const ack = { transferId: transfer.id, verdict, received: transfer.received, consumed: transfer.consumed, reason, replyTo: transfer.replyTo };
    this.finished.set(transfer.key, ack);
    if (this.finished.size > REMEMBERED_VERDICTS) this.finished.delete(this.finished.keys().next().value!);
    this.send(transfer.from, transfer.replyTo, ack);
    if (this.active.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Re-sends the verdict of a transfer that ended; false when there is none. */
  private answerFinished(key: string, replyTo: string, from: MemberId): boolean {
    const verdict = this.finished.get(key);
    if (verdict === undefined) return false;
    this.send(from, replyTo, verdict);
    return true;
  }

  private ackProgress(transfer: IncomingTransfer): void {
    this.ack(transfer, SnapshotVerdict.Progress);
  }

  private ack(transfer: IncomingTransfer, verdict: SnapshotVerdict.Progress | SnapshotVerdict.Resend): void {
    this.send(transfer.from, transfer.replyTo, { transferId: transfer.id, verdict, received: transfer.received, consumed: transfer.consumed, reason: '' });
  }

  private send(to: MemberId, replyTo: string, ack: SnapshotAck): void {
    const client = this.context.client();
    if (client === undefined) return;
    try {
      client.publish(replyTo, encodeSnapshotAck(this.context.header(to), ack));
    } catch (err) {
      this.context.logger.debug({ to, error: (err as Error).message }, 'snapshot ack not sent');
    }
  }

  private ensureTimer(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.tick(), this.context.keepaliveMs);
    this.timer.unref();
  }

  private tick(): void {
    const now = Date.now();
    for (const transfer of this.active.values()) {
      if (!transfer.endSeen && now - transfer.lastChunkAt > this.context.idleTimeoutMs) {
        transfer.inbox.fail(new Error(`no snapshot chunk from ${transfer.from} for ${this.context.idleTimeoutMs} ms`));
        continue;
      }
      this.ackProgress(transfer);
    }
  }
}
