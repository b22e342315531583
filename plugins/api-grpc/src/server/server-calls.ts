import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http2';
import { Duplex } from 'node:stream';
import { Metadata } from '@grpc/grpc-js';
import { toGrpcStatus, type ServiceError } from '../grpc-status.js';
import type { CallStream } from './call-stream.js';
import { framedMessage, framedMessages } from './grpc-framing.js';

/** Request headers that are gRPC's own, not the caller's metadata. */
const TRANSPORT_HEADERS = ['grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding', 'accept-encoding', 'te', 'content-type', 'user-agent'];

/** The caller's metadata from the request headers (pseudo-headers and gRPC's own left out). */
function metadataOf(headers: IncomingHttpHeaders): Metadata {
  const metadata = Metadata.fromHttp2Headers(headers);
  for (const key of TRANSPORT_HEADERS) metadata.remove(key);
  return metadata;
}

/** What every call tells its handler about the caller. */
export interface CallCaller {
  /** The caller's metadata (its token, `hasleader`, ...), read from the headers when first asked. */
  readonly metadata: Metadata;
  /** The CN of the connection's client certificate, when TLS verified it against the trusted CA. */
  readonly commonName: string | undefined;
  readonly cancelled: boolean;
}

/** How the server turns a response into bytes: the method's serializer. */
export type Serialize = (response: object) => Buffer;

/** A unary call: one request, answered once through the handler's callback. */
export class UnaryServerCall extends EventEmitter implements CallCaller {
  private metadataRead: Metadata | undefined;

  constructor(
    readonly request: object,
    /** Bytes of the request on the wire: etcd's --max-request-bytes is checked on them. */
    readonly requestBytes: number,
    private readonly headers: IncomingHttpHeaders,
    readonly commonName: string | undefined,
    private readonly call: CallStream,
  ) {
    super();
  }

  get metadata(): Metadata {
    return (this.metadataRead ??= metadataOf(this.headers));
  }

  get cancelled(): boolean {
    return this.call.cancelled;
  }
}

export type UnaryCallback = (error: ServiceError | null, response?: object) => void;
export type UnaryHandler = (call: UnaryServerCall, callback: UnaryCallback) => void;

/**
 * A streaming call as an object-mode Duplex: requests are read from it, responses written to it
 * (a turn's responses leave in one HTTP/2 write), `end()` finishes with OK, and emitting 'error'
 * with a status finishes with that status. 'cancelled' fires when the client goes away.
 */
export class StreamServerCall extends Duplex implements CallCaller {
  private metadataRead: Metadata | undefined;
  /** The request of a server-streaming call (the only one it gets). */
  request: object | undefined;

  constructor(
    private readonly headers: IncomingHttpHeaders,
    readonly commonName: string | undefined,
    private readonly call: CallStream,
    private readonly serialize: Serialize,
    /** Called when the reader wants more requests (the HTTP/2 stream was paused for backpressure). */
    private readonly wantMore: () => void,
  ) {
    super({ objectMode: true });
    // A handler ends a call with a status by emitting 'error' with it.
    this.on('error', (err: unknown) => {
      this.call.finish(toGrpcStatus(err));
      this.destroy();
    });
  }

  get metadata(): Metadata {
    return (this.metadataRead ??= metadataOf(this.headers));
  }

  get cancelled(): boolean {
    return this.call.cancelled;
  }

  /** The server calls this when the client went away. */
  cancelledByClient(): void {
    this.emit('cancelled');
    this.destroy();
  }

  override _read(): void {
    this.wantMore();
  }

  override _write(response: object, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    let frame: Buffer;
    try {
      frame = framedMessage(this.serialize(response));
    } catch (err) {
      callback(err as Error);
      return;
    }
    this.call.write(frame, callback);
  }

  override _writev(chunks: { chunk: object }[], callback: (error?: Error | null) => void): void {
    let frames: Buffer;
    try {
      frames = framedMessages(chunks.map(({ chunk }) => this.serialize(chunk)));
    } catch (err) {
      callback(err as Error);
      return;
    }
    this.call.write(frames, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.call.finish({ code: 0, details: '' });
    callback();
  }
}

export type StreamHandler = (call: StreamServerCall) => void;
