import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import {
  ChannelError,
  type ChannelCallOptions,
  type ChannelDuplex,
  type ChannelStream,
  type EtcdChannel,
  type EtcdServiceName,
  type WireMessage,
} from './etcd-channel.js';
import { etcdMethodDefinition, etcdPackageDefinition, type EtcdMethodDefinition } from './etcd-methods.js';

function methodOf(service: EtcdServiceName, method: string): EtcdMethodDefinition {
  const found = etcdMethodDefinition(service, method);
  if (found === undefined) throw new ChannelError(12, `unknown method ${service}.${method}`);
  return found;
}

/** TLS material: Buffers as they are, strings as paths of PEM files. */
export interface ChannelTlsOptions {
  readonly ca?: Buffer | string;
  readonly cert?: Buffer | string;
  readonly key?: Buffer | string;
  /** The name the server's certificate must carry when it differs from the endpoint's host. */
  readonly serverName?: string;
}

export interface GrpcChannelOptions {
  readonly tls?: ChannelTlsOptions;
  /**
   * HTTP/2 keepalive pings, so that a paused or unplugged member is noticed on an idle stream
   * (etcd accepts pings every 5 s by default). 0 turns them off.
   */
  readonly keepAliveMs?: number;
}

const pem = (material: Buffer | string | undefined): Buffer | null =>
  material === undefined ? null : typeof material === 'string' ? readFileSync(material) : material;

/**
 * `http://host:port`, `https://host:port` or `host:port` → the gRPC target `host:port` and whether
 * to speak TLS. The target never carries a scheme: Node's HTTP/2 refuses `:authority` values with
 * `/` or `#` (see TOOLCHAIN.md), so the authority is the bare `host:port`.
 */
export function parseEndpoint(endpoint: string, tlsConfigured: boolean): { target: string; secure: boolean } {
  const match = /^(https?):\/\/([^/]+)\/?$/.exec(endpoint);
  if (match !== null) return { target: match[2]!, secure: match[1] === 'https' };
  return { target: endpoint, secure: tlsConfigured };
}

function toChannelError(err: unknown): ChannelError {
  if (err instanceof ChannelError) return err;
  const status = err as Partial<grpc.ServiceError>;
  return new ChannelError(typeof status.code === 'number' ? status.code : 2, status.details ?? (err as Error).message ?? String(err));
}

/** A server stream or a duplex call of grpc-js behind the channel contract. */
class GrpcStream extends EventEmitter implements ChannelDuplex {
  private cancelled = false;
  private finished = false;
  /** Run once when the stream is over (either side): releases the caller's abort listener. */
  onOver: (() => void) | undefined;

  constructor(private readonly call: grpc.ClientReadableStream<object> | grpc.ClientDuplexStream<object, object>) {
    super();
    call.on('data', (message: WireMessage) => {
      if (!this.cancelled) this.emit('data', message);
    });
    call.on('error', (err: unknown) => this.finish('error', toChannelError(err)));
    call.on('end', () => this.finish('end'));
  }

  private finish(kind: 'error' | 'end', error?: ChannelError): void {
    if (this.finished || this.cancelled) return;
    this.finished = true;
    this.over();
    if (kind === 'error') this.emit('error', error);
    else this.emit('end');
  }

  write(message: WireMessage): void {
    if (this.cancelled || this.finished) return;
    (this.call as grpc.ClientDuplexStream<object, object>).write(message);
  }

  end(): void {
    if (!this.cancelled && !this.finished) (this.call as grpc.ClientDuplexStream<object, object>).end();
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.over();
    this.call.cancel();
  }

  private over(): void {
    const onOver = this.onOver;
    this.onOver = undefined;
    onOver?.();
  }
}

/** An `EtcdChannel` over one gRPC connection (grpc-js, messages through @grpc/proto-loader). */
export class GrpcChannel implements EtcdChannel {
  readonly target: string;
  private readonly client: grpc.Client;

  constructor(endpoint: string, options: GrpcChannelOptions = {}) {
    // Load the protos now (once per process), not inside the first call's deadline.
    etcdPackageDefinition();
    const { target, secure } = parseEndpoint(endpoint, options.tls !== undefined);
    this.target = target;
    const tls = options.tls ?? {};
    const credentials = secure ? grpc.credentials.createSsl(pem(tls.ca), pem(tls.key), pem(tls.cert)) : grpc.credentials.createInsecure();
    const keepAliveMs = options.keepAliveMs ?? 10_000;
    const channelOptions: grpc.ChannelOptions = {
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
      // Reconnect promptly after a member restarts instead of grpc-js's growing backoff.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
      ...(keepAliveMs > 0 ? { 'grpc.keepalive_time_ms': keepAliveMs, 'grpc.keepalive_timeout_ms': Math.max(1000, keepAliveMs / 2) } : {}),
      ...(tls.serverName === undefined ? {} : { 'grpc.ssl_target_name_override': tls.serverName, 'grpc.default_authority': tls.serverName }),
    };
    this.client = new grpc.Client(target, credentials, channelOptions);
  }

  /**
   * Resolves once the connection is up. Rejects with UNAVAILABLE as soon as a connection attempt
   * made during the wait fails (or at `deadline`): nothing was sent, so any call may go elsewhere.
   */
  connect(deadline: number): Promise<void> {
    const channel = this.client.getChannel();
    return new Promise((resolve, reject) => {
      let attempted = false;
      const check = (): void => {
        const state = channel.getConnectivityState(true);
        if (state === grpc.connectivityState.READY) return resolve();
        if (state === grpc.connectivityState.CONNECTING) attempted = true;
        if (state === grpc.connectivityState.SHUTDOWN) return reject(new ChannelError(14, `channel to ${this.target} is closed`));
        if (state === grpc.connectivityState.TRANSIENT_FAILURE && attempted) return reject(new ChannelError(14, `cannot connect to ${this.target}`));
        if (Date.now() >= deadline) return reject(new ChannelError(14, `cannot connect to ${this.target} before the dial timeout`));
        channel.watchConnectivityState(state, new Date(deadline), () => check());
      };
      check();
    });
  }

  /** Whether the connection is up now (a call would not have to dial first). */
  isConnected(): boolean {
    return this.client.getChannel().getConnectivityState(false) === grpc.connectivityState.READY;
  }

  unary(service: EtcdServiceName, method: string, request: WireMessage, options: ChannelCallOptions = {}): Promise<WireMessage> {
    const definition = methodOf(service, method);
    const signal = options.signal;
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      let settled = false;
      const onAbort = (): void => {
        if (settled) return;
        settled = true;
        call.cancel();
        reject(signal!.reason);
      };
      const call = this.client.makeUnaryRequest(
        definition.path,
        definition.requestSerialize,
        definition.responseDeserialize,
        request,
        metadataOf(options),
        callOptionsOf(options),
        (err, response) => {
          signal?.removeEventListener('abort', onAbort);
          if (settled) return;
          settled = true;
          if (err !== null) reject(toChannelError(err));
          else resolve(response as WireMessage);
        },
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  duplex(service: EtcdServiceName, method: string, options: ChannelCallOptions = {}): ChannelDuplex {
    const definition = methodOf(service, method);
    const call = this.client.makeBidiStreamRequest(
      definition.path,
      definition.requestSerialize,
      definition.responseDeserialize,
      metadataOf(options),
      callOptionsOf(options),
    );
    return this.streamOf(call, options.signal);
  }

  serverStream(service: EtcdServiceName, method: string, request: WireMessage, options: ChannelCallOptions = {}): ChannelStream {
    const definition = methodOf(service, method);
    const call = this.client.makeServerStreamRequest(
      definition.path,
      definition.requestSerialize,
      definition.responseDeserialize,
      request,
      metadataOf(options),
      callOptionsOf(options),
    );
    return this.streamOf(call, options.signal);
  }

  private streamOf(call: grpc.ClientReadableStream<object> | grpc.ClientDuplexStream<object, object>, signal: AbortSignal | undefined): GrpcStream {
    const stream = new GrpcStream(call);
    if (signal !== undefined) {
      if (signal.aborted) queueMicrotask(() => stream.cancel());
      else {
        const onAbort = (): void => stream.cancel();
        signal.addEventListener('abort', onAbort, { once: true });
        stream.onOver = () => signal.removeEventListener('abort', onAbort);
      }
    }
    return stream;
  }

  close(): void {
    this.client.close();
  }
}

function metadataOf(options: ChannelCallOptions): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (options.token !== undefined) metadata.set('token', options.token);
  return metadata;
}

function callOptionsOf(options: ChannelCallOptions): grpc.CallOptions {
  return options.deadline === undefined ? {} : { deadline: new Date(options.deadline) };
}
