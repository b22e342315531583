import http2, { type Http2Server, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { EtcdError, GrpcCode, type Logger } from '@cairn/core';
import { toGrpcStatus } from '../grpc-status.js';
import { CallStream, answerWithStatus } from './call-stream.js';
import { ClientPingPolicy } from './client-ping-policy.js';
import { framedMessage, MessageReader } from './grpc-framing.js';
import { StreamServerCall, UnaryServerCall, type StreamHandler, type UnaryHandler } from './server-calls.js';

export type CallHandler = UnaryHandler | StreamHandler;
/** A service's handlers by method name (or the .proto's original name). */
export type ServiceImplementation = Readonly<Record<string, CallHandler>>;
/** Wraps every handler of a service as it is added (the metrics count calls this way). */
export type ServiceInstrument = (service: ServiceDefinition, implementation: ServiceImplementation) => ServiceImplementation;

export interface GrpcHttp2ServerOptions {
  /** Largest request message accepted (RESOURCE_EXHAUSTED beyond). */
  readonly maxReceiveBytes: number;
  /** A connection is pinged this often; 0 or ≥ 2^31 never. */
  readonly keepaliveIntervalMs: number;
  /** A ping unanswered this long closes the connection. */
  readonly keepaliveTimeoutMs: number;
  /** The least time between a client's pings (see ClientPingPolicy); default 5 s, etcd's; 0 leaves grpc-go's 5 min. */
  readonly keepaliveMinTimeMs?: number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS, when not HTTP/2's unlimited default. */
  readonly maxConcurrentStreams?: number;
  readonly instrument?: ServiceInstrument;
  /** Told of the clients sent away (one pinging too often). */
  readonly logger?: Logger;
}

type Kind = 'unary' | 'server_stream' | 'bidi_stream';

interface Route {
  readonly kind: Kind;
  readonly method: MethodDefinition<object, object>;
  readonly handler: CallHandler;
}

/** A call as it arrives: its route, stream and request headers, and what the server knows of its connection. */
interface IncomingCall {
  readonly route: Route;
  readonly stream: ServerHttp2Stream;
  readonly headers: IncomingHttpHeaders;
  readonly commonName: string | undefined;
  readonly reader: MessageReader;
  /** The client's deadline in ms, if it set one. */
  readonly timeout: number | undefined;
  /** Told when the call sends headers or data (the connection's ping policy). */
  readonly sent: () => void;
}

/** The request message decoded by the method's deserializer; a message it cannot read is INTERNAL, as grpc-go answers it. */
function decodeRequest(route: Route, bytes: Buffer): object {
  try {
    return route.method.requestDeserialize(bytes);
  } catch (err) {
    throw new EtcdError(GrpcCode.Internal, `grpc: error unmarshalling request: ${(err as Error).message}`);
  }
}

/** What the server knows of one client connection. */
interface SessionInfo {
  readonly commonName: string | undefined;
  readonly pings: ClientPingPolicy;
}

const DEFAULT_KEEPALIVE_MIN_TIME_MS = 5000;
/** What grpc-go enforces when etcd's --grpc-keepalive-min-time is 0 (etcd then sets no policy of its own). */
const GRPC_GO_MIN_TIME_MS = 5 * 60 * 1000;
/** GOAWAY's debug data for a client sent away for pinging too often, as grpc-go sends it. */
const TOO_MANY_PINGS = Buffer.from('too_many_pings');

const MAX_TIMER_MS = 2 ** 31 - 1;
const DEADLINE = /^(\d{1,8})([HMSmun])$/;
const UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/** The client's deadline from `grpc-timeout`, in ms; undefined when none; NaN when malformed. */
function deadlineMs(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = DEADLINE.exec(Array.isArray(value) ? (value[0] ?? '') : value);
  if (match === null) return NaN;
  return Math.max(1, Math.ceil(Number(match[1]) * UNIT_MS[match[2]!]!));
}

function kindOf(method: MethodDefinition<object, object>): Kind {
  if (method.requestStream && !method.responseStream) throw new Error(`client-streaming methods are not served (${method.path})`);
  if (method.requestStream) return 'bidi_stream';
  return method.responseStream ? 'server_stream' : 'unary';
}

/**
 * gRPC over `node:http2` for the etcd services, in place of grpc-js's server: requests are
 * routed by path, decoded with the method's protobuf deserializer, and a unary call's response,
 * status and trailers leave in one turn (grpc-js builds an interceptor chain per call and sends
 * the trailers a turn after the data). It serves connections it is handed (the client port's
 * listener owns the sockets), pings them at the keepalive interval, and drains them at close.
 */
export class GrpcHttp2Server {
  private readonly routes = new Map<string, Route>();
  private readonly http2: Http2Server;
  private readonly sessions = new Map<ServerHttp2Session, SessionInfo>();
  /** The verified CN of the connection being handed to the HTTP/2 server: its session is made in that same call. */
  private injecting: string | undefined;
  private closing = false;

  constructor(private readonly options: GrpcHttp2ServerOptions) {
    const limit = options.maxConcurrentStreams;
    // Session memory unbounded as grpc-js has it: Node refuses new streams once a session passes it.
    this.http2 = http2.createServer({
      maxSessionMemory: Number.MAX_SAFE_INTEGER,
      ...(limit === undefined ? {} : { settings: { maxConcurrentStreams: limit } }),
    });
    this.http2.setTimeout(0);
    this.http2.on('session', (session) => this.onSession(session));
    this.http2.on('stream', (stream, headers) => this.onStream(stream, headers));
  }

  addService(service: ServiceDefinition, implementation: ServiceImplementation): void {
    const served = this.options.instrument?.(service, implementation) ?? implementation;
    for (const [name, method] of Object.entries(service)) {
      const handler = served[name] ?? (method.originalName === undefined ? undefined : served[method.originalName]);
      if (handler === undefined) continue;
      const m = method as MethodDefinition<object, object>;
      this.routes.set(m.path, { kind: kindOf(m), method: m, handler });
    }
  }

  /** Serve HTTP/2 on `connection` (a socket, or the stream repairing its authority); `commonName` is its verified client certificate's. */
  injectConnection(connection: Duplex, commonName?: string): void {
    if (this.closing) {
      connection.destroy();
      return;
    }
    this.injecting = commonName;
    try {
      this.http2.emit('connection', connection);
    } finally {
      this.injecting = undefined;
    }
  }

  /** Refuse new calls (GOAWAY), let those in flight finish for up to `graceMs`, then close what is left. */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    const closed = [...this.sessions.keys()].map((s) => new Promise<void>((resolve) => (s.closed ? resolve() : s.once('close', () => resolve()))));
    for (const session of this.sessions.keys()) if (!session.closed) session.close();
    const force = setTimeout(() => {
      for (const session of this.sessions.keys()) session.destroy();
    }, graceMs);
    await Promise.all(closed);
    clearTimeout(force);
  }

  private onSession(session: ServerHttp2Session): void {
    const pings = new ClientPingPolicy(
      this.options.keepaliveMinTimeMs === 0 ? GRPC_GO_MIN_TIME_MS : (this.options.keepaliveMinTimeMs ?? DEFAULT_KEEPALIVE_MIN_TIME_MS),
    );
    this.sessions.set(session, { commonName: this.injecting, pings });
    session.on('error', () => undefined);
    session.on('ping', () => {
      if (pings.pinged() && !session.closed) {
        this.options.logger?.warn({ remote: session.socket?.remoteAddress }, 'client pinged too often: sent GOAWAY ENHANCE_YOUR_CALM "too_many_pings"');
        session.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, 0, TOO_MANY_PINGS);
        session.close();
      }
    });
    const interval = this.options.keepaliveIntervalMs;
    let pinger: NodeJS.Timeout | undefined;
    let unanswered: NodeJS.Timeout | undefined;
    if (interval > 0 && interval < MAX_TIMER_MS) {
      // A client that vanished without a FIN (host gone, cable cut) is found by a ping, as etcd finds it.
      pinger = setInterval(() => {
        if (unanswered !== undefined || session.destroyed) return;
        unanswered = setTimeout(() => session.destroy(), this.options.keepaliveTimeoutMs);
        unanswered.unref();
        const sent = session.ping((err) => {
          clearTimeout(unanswered);
          unanswered = undefined;
          if (err !== null) session.destroy();
        });
        if (!sent) session.destroy();
      }, interval);
      pinger.unref();
    }
    session.once('close', () => {
      clearInterval(pinger);
      clearTimeout(unanswered);
      this.sessions.delete(session);
    });
  }

  private onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    const contentType = headers['content-type'];
    if (typeof contentType !== 'string' || !contentType.startsWith('application/grpc')) {
      stream.on('error', () => undefined);
      stream.respond({ ':status': 415 }, { endStream: true });
      return;
    }
    const path = headers[':path'] ?? '';
    const route = this.routes.get(path);
    if (route === undefined) {
      stream.on('error', () => undefined);
      answerWithStatus(stream, { code: GrpcCode.Unimplemented, details: `The server does not implement the method ${path}` });
      return;
    }
    const timeout = deadlineMs(headers['grpc-timeout']);
    if (Number.isNaN(timeout)) {
      stream.on('error', () => undefined);
      answerWithStatus(stream, { code: GrpcCode.Internal, details: `Invalid grpc-timeout value "${String(headers['grpc-timeout'])}"` });
      return;
    }
    const session = this.sessions.get(stream.session as ServerHttp2Session);
    if (session === undefined) {
      stream.destroy();
      return;
    }
    const { pings } = session;
    pings.openCalls++;
    stream.once('close', () => pings.openCalls--);
    const sent = (): void => pings.noteSent();
    const commonName = session.commonName;
    const encoding = headers['grpc-encoding'];
    const reader = new MessageReader(this.options.maxReceiveBytes, typeof encoding === 'string' ? encoding : 'identity');
    const incoming: IncomingCall = { route, stream, headers, commonName, reader, timeout, sent };
    if (route.kind === 'unary') this.serveUnary(incoming);
    else this.serveStream(incoming);
  }

  /** A unary call is served as soon as its request message is complete (not at the client's half-close). */
  private serveUnary({ route, stream, headers, commonName, reader, timeout, sent }: IncomingCall): void {
    let call: UnaryServerCall | undefined;
    const callStream = new CallStream(stream, () => call?.emit('cancelled'), sent);
    if (timeout !== undefined) callStream.expireAfter(timeout);
    const fail = (err: unknown): void => {
      callStream.finish(toGrpcStatus(err));
    };
    const onData = (chunk: Buffer): void => {
      let messages: Buffer[];
      try {
        messages = reader.push(chunk);
      } catch (err) {
        stream.off('data', onData);
        fail(err);
        return;
      }
      if (messages.length === 0) return;
      stream.off('data', onData);
      // Whatever follows the request (an empty END_STREAM frame) is read and dropped.
      stream.resume();
      const bytes = messages[0]!;
      let request: object;
      try {
        request = decodeRequest(route, bytes);
      } catch (err) {
        fail(err);
        return;
      }
      call = new UnaryServerCall(request, bytes.length, headers, commonName, callStream);
      (route.handler as UnaryHandler)(call, (error, response) => {
        if (error !== null) {
          callStream.finish(error);
          return;
        }
        let frame: Buffer;
        try {
          frame = framedMessage(route.method.responseSerialize(response ?? {}));
        } catch (err) {
          callStream.finish({ code: GrpcCode.Internal, details: `grpc: error while marshaling: ${(err as Error).message}` });
          return;
        }
        callStream.finish({ code: 0, details: '' }, frame);
      });
    };
    stream.on('data', onData);
    stream.once('end', () => {
      if (call === undefined) fail(new EtcdError(GrpcCode.Internal, 'grpc: the client sent no request message'));
    });
  }

  /** A streaming call: the handler gets the call at once (bidi) or with its one request (server stream). */
  private serveStream({ route, stream, headers, commonName, reader, timeout, sent }: IncomingCall): void {
    // eslint-disable-next-line prefer-const -- the call and its HTTP/2 side refer to each other
    let call: StreamServerCall;
    const callStream = new CallStream(stream, () => call.cancelledByClient(), sent);
    call = new StreamServerCall(
      headers,
      commonName,
      callStream,
      (r) => route.method.responseSerialize(r),
      () => stream.resume(),
    );
    if (timeout !== undefined) callStream.expireAfter(timeout);
    const handler = route.handler as StreamHandler;
    let started = route.kind === 'bidi_stream';
    if (started) handler(call);
    stream.on('data', (chunk: Buffer) => {
      if (callStream.done) return;
      let messages: Buffer[];
      try {
        messages = reader.push(chunk);
      } catch (err) {
        call.emit('error', err);
        return;
      }
      for (const bytes of messages) {
        let request: object;
        try {
          request = decodeRequest(route, bytes);
        } catch (err) {
          call.emit('error', err);
          return;
        }
        if (!started) {
          started = true;
          call.request = request;
          handler(call);
        } else if (route.kind === 'server_stream') {
          call.emit('error', new EtcdError(GrpcCode.Internal, `Received a second request message for server streaming method ${route.method.path}`));
          return;
        } else if (!call.push(request)) {
          stream.pause();
        }
      }
    });
    stream.once('end', () => {
      if (callStream.done) return;
      if (!started) {
        call.emit('error', new EtcdError(GrpcCode.Internal, 'grpc: the client sent no request message'));
        return;
      }
      call.push(null);
    });
  }
}
