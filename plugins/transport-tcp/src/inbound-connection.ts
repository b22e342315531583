import type { Socket } from 'node:net';
import { decodeRaftMessage, SnapshotInbox, WireError, type CounterSeries, type Logger, type MemberId, type Message, type TransportHandler } from '@cairn/core';
import { FrameDecoder, FrameType, type DecodedFrame } from './frame.js';
import { ConnectionKind, refusalOf, type Hello } from './handshake.js';
import type { PeerNetworkMetrics } from './peer-network-metrics.js';
import type { TransportMetrics } from './transport-metrics.js';
import { decodeHello, decodeProbe, encodeProbeFrame, encodeSnapshotAckFrame, encodeWelcomeFrame } from './wire-codec.js';

/** How long a refused connector gets to read the refusal and hang up. */
const REFUSAL_LINGER_MS = 5_000;

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
    this.decoder = new FrameDecoder(context.maxFrameBytes);
    socket.setNoDelay(true);
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
      this.drop(err instanceof WireError ? err.message : `unreadable frame: ${(err as Error).message}`);
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
    const { self, logger, metrics } = this.context;
    if (this.context.clusterId() === '') this.context.adoptClusterOf(hello);
    const clusterId = this.context.clusterId();
    const refusal = refusalOf(hello, clusterId, self);
    if (refusal !== undefined) {
      metrics.refusedConnections++;
      logger.error({ remote: this.remote, peer: hello.from, reason: refusal }, 'refused a peer connection');
      this.done = true;
      // Keep reading (and discarding) until the connector hangs up: closing with unread bytes
      // would reset the connection and lose the refusal the connector should log.
      this.socket.end(encodeWelcomeFrame({ accepted: false, clusterId, memberId: self, reason: refusal }));
      this.socket.setTimeout(REFUSAL_LINGER_MS, () => this.socket.destroy());
      return;
    }
    this.hello = hello;
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

  private drop(reason: string): void {
    if (this.done) return;
    this.done = true;
    this.context.metrics.refusedConnections++;
    this.context.logger.warn({ remote: this.remote, peer: this.hello?.from, reason }, 'dropped a peer connection that broke the wire format');
    this.socket.destroy();
    this.inbox?.fail(new Error(`snapshot stream from ${this.hello?.from ?? 'a peer'} was corrupt: ${reason}`));
  }
}
