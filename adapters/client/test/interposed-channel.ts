import { EventEmitter } from 'node:events';
import {
  ChannelError,
  GrpcChannel,
  type ChannelCallOptions,
  type ChannelDuplex,
  type ChannelStream,
  type EtcdChannel,
  type EtcdServiceName,
  type WireMessage,
} from '../src/index.js';

/** A duplex of the interposed channel: the real one, plus a way to break it as a failing network would. */
export class InterposedDuplex extends EventEmitter implements ChannelDuplex {
  private broken = false;

  constructor(
    private readonly inner: ChannelDuplex,
    private readonly rewrite: (message: WireMessage) => WireMessage | undefined,
  ) {
    super();
    inner.on('data', (m) => !this.broken && this.emit('data', m));
    inner.on('error', (e) => !this.broken && this.emit('error', e));
    inner.on('end', () => !this.broken && this.emit('end'));
  }

  write(message: WireMessage): void {
    const rewritten = this.rewrite(message);
    if (rewritten !== undefined) this.inner.write(rewritten);
  }

  end(): void {
    this.inner.end();
  }

  cancel(): void {
    this.broken = true;
    this.inner.cancel();
  }

  /** Fails the stream with UNAVAILABLE, as a dropped connection does. */
  breakWith(details = 'Connection dropped'): void {
    if (this.broken) return;
    this.broken = true;
    this.inner.cancel();
    this.emit('error', new ChannelError(14, details));
  }
}

/**
 * A gRPC channel with hooks for tests: every duplex it opens is recorded (to break it), and
 * written messages pass through `rewrite` (e.g. to make a resumed watch start earlier, so the
 * server redelivers events the client already has).
 */
export class InterposedChannel implements EtcdChannel {
  readonly duplexes: InterposedDuplex[] = [];
  /** `Service.Method` of every unary call, in order. */
  readonly unaryCalls: string[] = [];
  /**
   * When set, unary calls and stream writes vanish without an answer, as with a paused member
   * (calls still end at their deadline or signal).
   */
  blackhole = false;
  rewrite: (message: WireMessage) => WireMessage = (m) => m;
  private readonly inner: GrpcChannel;

  constructor(endpoint: string) {
    this.inner = new GrpcChannel(endpoint);
  }

  get target(): string {
    return this.inner.target;
  }

  unary(service: EtcdServiceName, method: string, request: WireMessage, options: ChannelCallOptions = {}): Promise<WireMessage> {
    this.unaryCalls.push(`${service}.${method}`);
    if (!this.blackhole) return this.inner.unary(service, method, request, options);
    return new Promise((_resolve, reject) => {
      const { signal, deadline } = options;
      if (deadline !== undefined) setTimeout(() => reject(new ChannelError(4, 'Deadline exceeded')), Math.max(0, deadline - Date.now()));
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }

  duplex(service: EtcdServiceName, method: string, options?: ChannelCallOptions): ChannelDuplex {
    const duplex = new InterposedDuplex(this.inner.duplex(service, method, options), (m) => (this.blackhole ? undefined : this.rewrite(m)));
    this.duplexes.push(duplex);
    return duplex;
  }

  serverStream(service: EtcdServiceName, method: string, request: WireMessage, options?: ChannelCallOptions): ChannelStream {
    return this.inner.serverStream(service, method, request, options);
  }

  close(): void {
    this.inner.close();
  }
}
