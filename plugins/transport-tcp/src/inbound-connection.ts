import type { Socket } from 'node:net';
import { decodeRaftMessage, SnapshotInbox, WireError, type CounterSeries, type Logger, type MemberId, type Message, type TransportHandler } from '@cairn/core';
import { FrameDecoder, FrameTooLargeError, FrameType, type DecodedFrame } from './frame.js';
import { ConnectionKind, refusalOf, type Hello } from './handshake.js';
import type { PeerNetworkMetrics } from './peer-network-metrics.js';
import type { PeerRefusalReason, PeerRefusals } from './peer-refusals.js';
import type { TransportMetrics } from './transport-metrics.js';
import { decodeHello, decodeProbe, encodeProbeFrame, encodeSnapshotAckFrame, encodeWelcomeFrame } from './wire-codec.js';

/** How long a refused connector gets to read the refusal and hang up. */
const REFUSAL_LINGER_MS = 5_000;
/**
 * The largest frame before the Hello: a Hello is well under 1 KiB, so a stranger cannot make the
 * listener buffer a full-size frame before saying who it is.
 */
export const HELLO_MAX_FRAME_BYTES = 16 * 1024;

export interface InboundContext {
  readonly self: MemberId;
  /** The cluster peers must belong to; '' until a joining member learned it. */
  readonly clusterId: () => string;
  /** A joining member accepts `hello`'s cluster when it comes from a known peer; true when it did. */
  readonly adoptClusterOf: (hello: Hello) => boolean;
  readonly handler: TransportHandler;
  readonly logger: Logger;
  readonly metrics: TransportMetrics;
  /** etcd's peer metrics (bytes received per peer), when the member collects them. */
  readonly network?: PeerNetworkMetrics;
  readonly maxFrameBytes: number;
  /**
   * A connection without a complete Hello after this long, or silent this long in the middle of a
   * frame, is dropped (etcd's rafthttp.ConnReadTimeout). Silence between frames is allowed.
   */
  readonly readTimeoutMs: number;
  /** Counts and logs (rate-limited) every connection turned away. */
  readonly refusals: PeerRefusals;
  /** Unread snapshot bytes held before the socket is paused. */
  readonly snapshotHighWaterBytes: number;
}

/**
 * One accepted connection. It must open with a Hello from a member of our cluster addressed to
 * us; then it carries either Raft messages or one snapshot. Anything malformed drops this
 * connection (logged) and nothing else.
 */
export class InboundConnection {
  private readonly decoder: FrameDecoder;
  private hello: Hello | undefined;
  private inbox: SnapshotInbox | undefined;
  private snapshotSettled = false;
  /** Paused while more than snapshotHighWaterBytes of the snapshot wait unread. */
  private pausedForSnapshot = false;
  private done = false;
  /** Bytes from the peer, once its Hello named it. */
  private received: CounterSeries | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly context: InboundContext,
  ) {
    this.decoder = new FrameDecoder(Math.min(HELLO_MAX_FRAME_BYTES, context.maxFrameBytes));
    socket.setNoDelay(true);
    socket.setTimeout(context.readTimeoutMs);
    socket.on('timeout', () => this.onReadTimeout());
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.done = true;
      this.inbox?.fail(new Error(`snapshot stream from ${this.hello?.from ?? 'a peer'} broke off before its end`));
    });
  }

  private get remote(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }

  private onData(chunk: Buffer): void {
    if (this.done) return;
    try {
      this.decoder.push(chunk, (frame) => {
        this.onFrame(frame);
        return !this.done;
      });
      if (this.received !== undefined) this.received.value += chunk.byteLength;
    } catch (err) {
      if (err instanceof FrameTooLargeError) this.drop('oversized_frame', err.message);
      else this.drop('bad_frame', err instanceof WireError ? err.message : `unreadable frame: ${(err as Error).message}`);
    }
  }

  /** Socket inactivity: fatal before the Hello and in the middle of a frame (unless paused for a slow snapshot reader). */
  private onReadTimeout(): void {
    if (this.done) return;
    const ms = this.context.readTimeoutMs;
    if (this.hello === undefined) {
      this.drop('handshake_timeout', `no handshake within ${ms} ms (${this.decoder.pendingBytes} bytes received)`);
      return;
    }
    if (this.decoder.pendingBytes > 0 && !this.pausedForSnapshot) {
      this.drop('truncated_frame', `silent for ${ms} ms after ${this.decoder.pendingBytes} bytes of a frame`);
    }
  }

  private onFrame(frame: DecodedFrame): void {
    const hello = this.hello;
    if (hello === undefined) {
      if (frame.type !== FrameType.Hello) throw new WireError(`expected a Hello frame, got ${FrameType[frame.type]}`);
      this.onHello(decodeHello(frame.payload));
      return;
    }
    if (hello.kind === ConnectionKind.Messages) {
      if (frame.type === FrameType.Ping) {
        this.socket.write(encodeProbeFrame(FrameType.Pong, decodeProbe(frame.payload)));
        return;
      }
      if (frame.type !== FrameType.Message) throw new WireError(`unexpected ${FrameType[frame.type]} frame on a message connection`);
      this.deliver(this.checked(decodeRaftMessage(frame.payload), hello));
      return;
    }
    switch (frame.type) {
      case FrameType.SnapshotBegin:
        if (this.inbox !== undefined) throw new WireError('a second SnapshotBegin on one connection');
        this.beginSnapshot(this.checked(decodeRaftMessage(frame.payload), hello));
        return;
      case FrameType.SnapshotChunk:
        if (this.inbox === undefined) throw new WireError('snapshot bytes before SnapshotBegin');
        // Bytes after the handler already answered are read and discarded until the sender closes.
        if (!this.snapshotSettled) this.receiveChunk(this.inbox, frame.payload);
        return;
      case FrameType.SnapshotEnd:
        if (this.inbox === undefined) throw new WireError('SnapshotEnd before SnapshotBegin');
        this.inbox.end();
        return;
      default:
        throw new WireError(`unexpected ${FrameType[frame.type]} frame on a snapshot connection`);
    }
  }

  private onHello(hello: Hello): void {
    const { self } = this.context;
    // A member that does not know its ID yet learns it from the first member addressing it (refused below all the same).
    if (self === '' && hello.to !== '' && hello.clusterId !== '') this.context.handler.onAddressed?.(hello.to, hello.clusterId, hello.from);
    if (this.context.clusterId() === '') this.context.adoptClusterOf(hello);
    const clusterId = this.context.clusterId();
    const refusal = refusalOf(hello, clusterId, self);
    if (refusal !== undefined) {
      this.context.refusals.refuse('handshake_refused', { remote: this.remote, peer: hello.from, reason: refusal });
      this.done = true;
      // Keep reading (and discarding) until the connector hangs up: closing with unread bytes
      // would reset the connection and lose the refusal the connector should log.
      this.socket.end(encodeWelcomeFrame({ accepted: false, clusterId, memberId: self, reason: refusal }));
      this.socket.setTimeout(REFUSAL_LINGER_MS, () => this.socket.destroy());
      return;
    }
    this.hello = hello;
    // A member of the cluster may send frames as large as the transport allows.
    this.decoder.limitTo(this.context.maxFrameBytes);
    this.received = this.context.network?.receivedFrom(hello.from);
    this.socket.write(encodeWelcomeFrame({ accepted: true, clusterId, memberId: self, reason: '' }));
  }

  /** The handshake names the sender; a message claiming another sender or addressee is garbage. */
  private checked(message: Message, hello: Hello): Message {
    if (message.from !== hello.from) throw new WireError(`message from ${message.from} on ${hello.from}'s connection`);
    if (message.to !== this.context.self) throw new WireError(`message for ${message.to} delivered to ${this.context.self}`);
    return message;
  }

  private deliver(message: Message): void {
    this.context.metrics.received++;
    try {
      this.context.handler.onMessage(message);
    } catch (err) {
      this.context.logger.error({ from: message.from, type: message.type, error: (err as Error).message }, 'message handler threw; message lost');
    }
  }

  private beginSnapshot(message: Message): void {
    const { handler, logger, metrics } = this.context;
    const inbox = new SnapshotInbox();
    this.inbox = inbox;
    const answer = (stored: boolean, reason: string): void => {
      if (this.snapshotSettled) return;
      this.snapshotSettled = true;
      if (stored) metrics.snapshotsReceived++;
      if (this.done) return;
      // Half-close after the ack and keep reading: closing with unread bytes would reset the
      // connection and could destroy the ack before the sender reads it.
      this.socket.resume();
      this.socket.end(encodeSnapshotAckFrame({ stored, reason }));
    };
    let handled: Promise<void>;
    try {
      handled = handler.onSnapshot(message, inbox);
    } catch (err) {
      handled = Promise.reject(err);
    }
    handled.then(
      () => answer(true, ''),
      (err: unknown) => {
        const reason = err instanceof Error ? err.message : String(err);
        logger.warn({ from: message.from, index: message.snapshot?.index, reason }, 'snapshot refused by the handler');
        answer(false, reason);
      },
    );
  }

  /**
   * Back pressure: the socket is paused while more than the high-water mark waits unread and
   * resumed once the reader has taken it down to half, so a slow store slows the sender down
   * instead of filling memory.
   */
  private receiveChunk(inbox: SnapshotInbox, chunk: Uint8Array): void {
    const highWater = this.context.snapshotHighWaterBytes;
    inbox.push(chunk, () => {
      if (this.pausedForSnapshot && inbox.bufferedBytes <= highWater / 2) {
        this.pausedForSnapshot = false;
        this.socket.resume();
      }
    });
    if (!this.pausedForSnapshot && inbox.bufferedBytes >= highWater) {
      this.pausedForSnapshot = true;
      this.socket.pause();
    }
  }

  private drop(kind: PeerRefusalReason, reason: string): void {
    if (this.done) return;
    this.done = true;
    this.context.refusals.refuse(kind, { remote: this.remote, peer: this.hello?.from, reason });
    this.socket.destroy();
    this.inbox?.fail(new Error(`snapshot stream from ${this.hello?.from ?? 'a peer'} was corrupt: ${reason}`));
  }
}
