import type { Socket } from 'node:net';
import { BoundedQueue, raftMessageSize, WireError, type Logger, type MemberId, type Message } from '@cairn/core';
import { FrameDecoder, FrameType } from './frame.js';
import { ConnectionKind, PROTOCOL_VERSION } from './handshake.js';
import type { PeerAddress } from './peer-address.js';
import type { PeerLinkSeries } from './peer-network-metrics.js';
import type { PeerSockets } from './peer-sockets.js';
import type { TransportMetrics } from './transport-metrics.js';
import { decodeProbe, decodeWelcome, encodeHelloFrame, encodeMessageFrame, encodeMessageFrames, encodeProbeFrame } from './wire-codec.js';

export interface ReconnectBackoff {
  /** Delay before the first retry. */
  readonly initialMs: number;
  /** The delay doubles per failure up to this. */
  readonly maxMs: number;
}

export interface PeerLinkOptions {
  readonly self: MemberId;
  readonly peer: MemberId;
  /** Read at each connect: a joining member learns it after its links exist. */
  readonly clusterId: () => string;
  readonly queueSize: number;
  /** Bytes of messages the queue may hold (one larger message goes when the queue is empty). */
  readonly queueBytes: number;
  /** A peer unreachable this long has its queue emptied at each failed attempt after. */
  readonly releaseQueueAfterMs: number;
  /** A dial whose Welcome has not come after this long is abandoned (and retried). */
  readonly readTimeoutMs: number;
  /** A connection whose peer has read nothing for this long (the socket full all along) is closed. */
  readonly writeTimeoutMs: number;
  readonly backoff: ReconnectBackoff;
  readonly logger: Logger;
  readonly metrics: TransportMetrics;
  readonly sockets: PeerSockets;
  /** etcd's per-peer metrics of this link, when the member collects them. */
  readonly series?: PeerLinkSeries;
  /** How often an open connection measures its round trip (a Ping the listener answers). */
  readonly probeIntervalMs: number;
}

/** This process's monotonic clock in whole microseconds (a Ping's payload; only this side reads it). */
const nowMicros = (): number => Math.round(performance.now() * 1000);

/** Bytes a link lets the socket buffer before it waits for 'drain'; beyond that, the queue fills and drops. */
const MAX_SOCKET_BUFFER_BYTES = 1 << 20;

type LinkState = 'idle' | 'connecting' | 'open' | 'waiting' | 'closed';

/** A queued message and its encoded size, counted against the queue's byte bound. */
interface QueuedMessage {
  readonly message: Message;
  readonly bytes: number;
}

/**
 * The outbound message connection to one peer: a bounded queue in front of one TCP connection,
 * so messages to the peer stay in order. Messages queued in one turn of the event loop go out in
 * one corked write. A lost connection is retried with exponential backoff and jitter; what was
 * in the socket when it broke is lost (Raft resends).
 */
export class PeerLink {
  private readonly queue: BoundedQueue<QueuedMessage>;
  private bytesQueued = 0;
  private addresses: PeerAddress[] = [];
  private addressCursor = 0;
  private state: LinkState = 'idle';
  private socket: Socket | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private flushScheduled = false;
  /** Failures since the last accepted handshake, to log a dead peer once rather than per retry. */
  private failures = 0;
  /** When the first of the current run of failures happened (undefined while the peer answers). */
  private unreachableSince: number | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  /** Armed while the socket is full: fires when the peer has read nothing for the write timeout. */
  private stallTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: PeerLinkOptions) {
    this.queue = new BoundedQueue<QueuedMessage>(options.queueSize);
    this.backoffMs = options.backoff.initialMs;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Encoded bytes of the queued messages. */
  get queuedBytes(): number {
    return this.bytesQueued;
  }

  setAddresses(addresses: readonly PeerAddress[]): void {
    const current = this.addresses[this.addressCursor % Math.max(1, this.addresses.length)];
    this.addresses = [...addresses];
    this.addressCursor = 0;
    const stillValid = current !== undefined && addresses.some((a) => a.host === current.host && a.port === current.port);
    // A peer that moved: drop the connection to its old address and reconnect to the new one.
    if (!stillValid && this.socket !== undefined) this.socket.destroy();
  }

  /** Connect now if nothing is under way (no connection, no retry pending); a link otherwise connects on its first message. */
  connectIfIdle(): void {
    if (this.state === 'idle') this.connect();
  }

  /** Queue `message`; drops (and counts) it when the queue is full, in messages or bytes. Never blocks. */
  enqueue(message: Message): void {
    const bytes = raftMessageSize(message);
    const overBytes = this.queue.length > 0 && this.bytesQueued + bytes > this.options.queueBytes;
    if (this.state === 'closed' || overBytes || !this.queue.push({ message, bytes })) {
      this.dropped(1);
      return;
    }
    this.bytesQueued += bytes;
    if (this.state === 'idle') this.connect();
    else if (this.state === 'open') this.scheduleFlush();
  }

  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.stopProbing();
    this.clearStall();
    this.socket?.destroy();
    this.socket = undefined;
    this.release();
  }

  /** Empty the queue: its messages count as dropped. */
  private release(): void {
    this.dropped(this.queue.clear());
    this.bytesQueued = 0;
  }

  private connect(): void {
    const address = this.addresses[this.addressCursor % Math.max(1, this.addresses.length)];
    if (address === undefined) {
      this.state = 'idle';
      this.release();
      return;
    }
    this.state = 'connecting';
    const { self, peer, clusterId, logger } = this.options;
    const decoder = new FrameDecoder(64 * 1024);
    let failure: string | undefined;
    let welcomed = false;
    const socket = this.options.sockets.connect(address, () => {
      if (this.socket !== socket) return;
      this.state = 'open';
      socket.write(encodeHelloFrame({ version: PROTOCOL_VERSION, kind: ConnectionKind.Messages, clusterId: clusterId(), from: self, to: peer }));
      this.scheduleFlush();
    });
    this.socket = socket;
    socket.setNoDelay(true);
    // A peer that never answers (a black hole, a stopped process, a listener that is not Cairn) must not hold the link.
    const handshakeTimer = setTimeout(() => {
      failure = `no Welcome within ${this.options.readTimeoutMs} ms`;
      socket.destroy();
    }, this.options.readTimeoutMs);
    handshakeTimer.unref();
    socket.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk, (frame) => {
          if (frame.type === FrameType.Pong && welcomed) {
            this.options.series?.roundTrip.observe((nowMicros() - decodeProbe(frame.payload)) / 1e6);
            return true;
          }
          if (frame.type !== FrameType.Welcome || welcomed) throw new WireError(`unexpected ${FrameType[frame.type]} frame from the listener`);
          const welcome = decodeWelcome(frame.payload);
          if (!welcome.accepted) {
            failure = `refused: ${welcome.reason}`;
            // A refusal (wrong cluster, wrong member) will not fix itself soon: retry slowly.
            this.backoffMs = this.options.backoff.maxMs;
            logger.error({ peer, address: `${address.host}:${address.port}`, reason: welcome.reason }, 'peer refused the connection');
            socket.destroy();
            return false;
          }
          if (this.failures > 0) logger.info({ peer, address: `${address.host}:${address.port}`, after: this.failures }, 'peer connection restored');
          this.failures = 0;
          this.unreachableSince = undefined;
          this.backoffMs = this.options.backoff.initialMs;
          welcomed = true;
          clearTimeout(handshakeTimer);
          this.options.series?.connected();
          this.startProbing(socket);
          return true;
        });
      } catch (err) {
        failure = (err as Error).message;
        socket.destroy();
      }
    });
    socket.on('drain', () => {
      this.clearStall();
      this.scheduleFlush();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      failure ??= err.code ?? err.message;
    });
    socket.on('close', () => {
      clearTimeout(handshakeTimer);
      if (welcomed) this.options.series?.disconnected();
      if (this.socket !== socket) return;
      this.stopProbing();
      this.clearStall();
      this.socket = undefined;
      if (this.state === 'closed') return;
      if (this.failures === 0)
        logger.warn(
          { peer, address: `${address.host}:${address.port}`, reason: failure ?? 'closed by peer' },
          'peer connection lost; reconnecting with backoff',
        );
      else logger.debug({ peer, reason: failure ?? 'closed by peer', failures: this.failures }, 'peer still unreachable');
      this.failures++;
      this.addressCursor++;
      this.releaseIfLongUnreachable();
      this.scheduleRetry();
    });
  }

  /**
   * A peer down for long (every attempt failed for releaseQueueAfterMs) gets nothing kept for it:
   * Raft resends what matters once it answers again, and a member that never comes back must not
   * hold memory here. A short outage keeps its queue, so the messages go on reconnect.
   */
  private releaseIfLongUnreachable(): void {
    const now = performance.now();
    this.unreachableSince ??= now;
    if (now - this.unreachableSince < this.options.releaseQueueAfterMs || this.queue.length === 0) return;
    const { messages, bytes } = { messages: this.queue.length, bytes: this.bytesQueued };
    this.release();
    this.options.logger.debug({ peer: this.options.peer, messages, bytes }, 'released the queue of an unreachable peer');
  }

  private clearStall(): void {
    if (this.stallTimer !== undefined) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }

  /** The socket is full: unless the peer reads within the write timeout, the connection is closed (etcd's ConnWriteTimeout). */
  private armStall(socket: Socket): void {
    if (this.stallTimer !== undefined) return;
    this.stallTimer = setTimeout(() => {
      this.stallTimer = undefined;
      // The error becomes the reason the close logs.
      if (this.socket === socket && socket.writableNeedDrain) socket.destroy(new Error(`the peer read nothing for ${this.options.writeTimeoutMs} ms`));
    }, this.options.writeTimeoutMs);
    this.stallTimer.unref();
  }

  /** Messages that will not reach the peer: the transport's count, and etcd's sent failures to this peer. */
  private dropped(count: number): void {
    this.options.metrics.dropped += count;
    if (this.options.series !== undefined) this.options.series.sentFailures.value += count;
  }

  /** Measure the round trip at once, then every probe interval, while this connection is open. */
  private startProbing(socket: Socket): void {
    this.stopProbing();
    if (this.options.series === undefined) return;
    const ping = (): void => {
      if (this.socket === socket && this.state === 'open') socket.write(encodeProbeFrame(FrameType.Ping, nowMicros()));
    };
    ping();
    this.probeTimer = setInterval(ping, this.options.probeIntervalMs);
    this.probeTimer.unref();
  }

  private stopProbing(): void {
    if (this.probeTimer !== undefined) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }

  private scheduleRetry(): void {
    this.state = 'waiting';
    const { initialMs, maxMs } = this.options.backoff;
    // Full jitter in [delay/2, delay]: members that lost each other at once do not retry in lockstep.
    const delay = this.backoffMs / 2 + Math.random() * (this.backoffMs / 2);
    this.backoffMs = Math.min(maxMs, Math.max(initialMs, this.backoffMs * 2));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.state !== 'waiting') return;
      this.options.metrics.reconnects++;
      // Nothing to say: stay idle and connect when the next message comes (or the transport's sweep).
      if (this.queue.length > 0) this.connect();
      else this.state = 'idle';
    }, delay);
    this.retryTimer.unref();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** What is queued, up to the socket's limit, as one buffer of frames in one write (one TCP send for small messages). */
  private flush(): void {
    this.flushScheduled = false;
    const socket = this.socket;
    if (this.state !== 'open' || socket === undefined || socket.writableNeedDrain) return;
    const messages: Message[] = [];
    const sizes: number[] = [];
    let room = MAX_SOCKET_BUFFER_BYTES - socket.writableLength;
    while (this.queue.length > 0 && room > 0) {
      const { message, bytes } = this.queue.shift()!;
      this.bytesQueued -= bytes;
      messages.push(message);
      sizes.push(bytes);
      room -= bytes;
    }
    const frames = this.encode(messages, sizes);
    if (frames.byteLength > 0) socket.write(frames);
    if (this.options.series !== undefined) this.options.series.sentBytes.value += frames.byteLength;
    // Either 'drain' reschedules (socket full) or there is nothing left.
    if (socket.writableNeedDrain) this.armStall(socket);
    else if (this.queue.length > 0) this.scheduleFlush();
  }

  /**
   * The frames of `messages` in one buffer. Should one not encode, they are encoded one by one so
   * that only that one is dropped (and logged); the rest still go, in order.
   */
  private encode(messages: readonly Message[], sizes: readonly number[]): Buffer {
    const { metrics, logger, peer } = this.options;
    try {
      const frames = encodeMessageFrames(messages, sizes);
      metrics.sent += messages.length;
      return frames;
    } catch {
      const frames: Buffer[] = [];
      for (const message of messages) {
        try {
          frames.push(encodeMessageFrame(message));
          metrics.sent++;
        } catch (err) {
          this.dropped(1);
          logger.error({ peer, type: message.type, error: (err as Error).message }, 'message cannot be encoded; dropped');
        }
      }
      return Buffer.concat(frames);
    }
  }
}
