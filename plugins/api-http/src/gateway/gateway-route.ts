import type { IncomingMessage, ServerResponse } from 'node:http';
import { inject, injectable, optional } from 'inversify';
import {
  EtcdError,
  GrpcCode,
  etcdUnaryMethods,
  headerToWire,
  leaderResponseToWire,
  maintenanceAuthError,
  maxReceiveBytes,
  receivedMessageTooLarge,
  snapshotMessages,
  WireWatchStream,
  RefusedWatchSession,
  type CairnServices,
  type ClientHttpRoute,
  type EtcdCallContext,
  type EtcdUnaryMethods,
  type Logger,
  type PluginContext,
  type WireLeaderRequest,
  type WireLeaseIdRequest,
  type WireSnapshotResponse,
  type WireWatchRequest,
  type WireWatchResponse,
  type WatchSession,
} from '@cairn/core';
import { HTTP_LOGGER, HTTP_REQUEST_LIMITS } from '../tokens.js';
import { authTokenOf } from './auth-token.js';
import { commonNameOf, servicesFor } from './caller-credentials.js';
import { CORS_HEADERS, respondWithError, statusOf } from './gateway-error.js';
import { ETCD_GATEWAY_PATHS, gatewayPath } from './gateway-paths.js';
import { decodeJsonMessage, type DecodedMessage } from './json-request-decoder.js';
import { encodeJsonMessage } from './json-response-encoder.js';
import { readJsonValue } from './json-text.js';
import { FORWARDED_METADATA_HEADERS, JsonLinesResponse } from './json-lines-response.js';
import { GatewayKeepAliveStream } from './keepalive-stream.js';
import { EtcdProtoSchemas, type MethodSchema } from './proto-schema.js';
import { BodyAbortedError, readBody, requestBodyLimit } from './request-body.js';
import { streamResults } from './server-stream.js';
import { SseWatchStream, wantsEventStream } from './sse-watch.js';
import { sseWatchRequest } from './sse-watch-request.js';

import { readStreamRequests } from './stream-requests.js';
import { WatchResponseJson } from './watch-response-json.js';

/** What grpc-js answers for a method nobody serves (here: a service the member lacks, Auth until it lands). */
function unimplemented(method: string): EtcdError {
  return new EtcdError(GrpcCode.Unimplemented, `The server does not implement the method /${method}`);
}

/** Go's plain-text answers (http.Error) for what grpc-gateway's mux does not route. */
function plainText(response: ServerResponse, status: number, text: string): void {
  const body = `${text}\n`;
  response.writeHead(status, {
    ...CORS_HEADERS,
    'Content-Type': 'text/plain; charset=utf-8',
    'X-Content-Type-Options': 'nosniff',
    'Content-Length': Buffer.byteLength(body),
  });
  response.end(body);
}

/** etcd's require-leader metadata, as grpc-gateway forwards it from a Grpc-Metadata-Hasleader header. */
const requiresLeader = (request: IncomingMessage): boolean => request.headers['grpc-metadata-hasleader'] === 'true';

/**
 * etcd's JSON gateway on the client port: every path of etcd 3.4's gateway under /v3/ (and
 * /v3beta/), POST with the request message as JSON, answered as etcd answers it; unary RPCs go
 * through the core's method table (the one the gRPC frontend serves), streams (watch, lease
 * keep-alive, election observe, snapshot) as newline-delimited JSON; and the SSE watch, a Cairn
 * extension (`GET /v3/watch` with `Accept: text/event-stream`, see the README).
 */
@injectable()
export class GatewayRoute implements ClientHttpRoute {
  private readonly schemas = new EtcdProtoSchemas();
  private readonly watchJson = new WatchResponseJson(this.schemas);
  private readonly tables = new WeakMap<CairnServices, EtcdUnaryMethods>();
  private readonly maxRequestBytes: number;
  /** The protobuf size grpc-go would take (etcd's gateway forwards over gRPC). */
  private readonly maxReceiveBytes: number;
  private readonly bodyLimit: number;

  constructor(
    @inject(HTTP_REQUEST_LIMITS) limits: Pick<PluginContext['limits'], 'maxRequestBytes'>,
    @inject(HTTP_LOGGER) @optional() private readonly logger?: Logger,
  ) {
    this.maxRequestBytes = limits.maxRequestBytes;
    this.maxReceiveBytes = maxReceiveBytes(limits.maxRequestBytes);
    this.bodyLimit = requestBodyLimit(this.maxReceiveBytes);
  }

  serve(request: IncomingMessage, response: ServerResponse, services: CairnServices): boolean {
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    const path = gatewayPath(query < 0 ? url : url.slice(0, query));
    if (path === undefined) return false;
    if (request.method === 'OPTIONS') {
      // etcd answers any preflight with its CORS headers.
      response.writeHead(200, CORS_HEADERS);
      response.end();
      return true;
    }
    const name = ETCD_GATEWAY_PATHS.get(path);
    if (name === undefined) {
      plainText(response, 404, 'Not Found');
      return true;
    }
    const method = this.schemas.method(name);
    if (request.method === 'GET' && name === 'etcdserverpb.Watch/Watch' && wantsEventStream(request.headers.accept)) {
      void this.serveSseWatch(request, response, services, query < 0 ? '' : url.slice(query + 1));
    } else if (request.method !== 'POST') {
      plainText(response, 405, 'Method Not Allowed');
    } else if (method.requestStream || method.responseStream) {
      this.serveStream(method, request, response, services);
    } else {
      void this.serveUnary(method, request, response, services);
    }
    return true;
  }

  private methods(services: CairnServices): EtcdUnaryMethods {
    let table = this.tables.get(services);
    if (table === undefined) {
      table = etcdUnaryMethods(services, { maxRequestBytes: this.maxRequestBytes });
      this.tables.set(services, table);
    }
    return table;
  }

  /** The body as one request message (a failure answered as etcd's gateway answers it); undefined once answered. */
  private async readRequest(method: MethodSchema, request: IncomingMessage, response: ServerResponse): Promise<DecodedMessage | undefined> {
    let body: Buffer;
    try {
      body = await readBody(request, this.bodyLimit);
    } catch (err) {
      // Refused unread: the connection closes after the answer rather than read the rest.
      if (!(err instanceof BodyAbortedError)) respondWithError(response, statusOf(err), { headers: { Connection: 'close' } });
      return undefined;
    }
    let decoded: DecodedMessage;
    try {
      decoded = decodeJsonMessage(method.request, readJsonValue(body.toString('utf8'))?.value);
    } catch (err) {
      respondWithError(response, { code: GrpcCode.InvalidArgument, message: (err as Error).message });
      return undefined;
    }
    if (decoded.size > this.maxReceiveBytes) {
      respondWithError(response, statusOf(receivedMessageTooLarge(decoded.size, this.maxReceiveBytes)), { fromServer: true });
      return undefined;
    }
    return decoded;
  }

  private async serveUnary(method: MethodSchema, request: IncomingMessage, response: ServerResponse, services: CairnServices): Promise<void> {
    const decoded = await this.readRequest(method, request, response);
    if (decoded === undefined) return;
    const serve = this.methods(services).get(method.name);
    if (serve === undefined) {
      respondWithError(response, statusOf(unimplemented(method.name)), { fromServer: true });
      return;
    }
    let answer: object;
    try {
      answer = await serve(decoded.message, callContext(request, response, decoded.size));
    } catch (err) {
      if (!(err instanceof EtcdError)) this.logger?.debug({ method: method.name, err }, 'gateway call failed');
      respondWithError(response, statusOf(err), { fromServer: true });
      return;
    }
    const json = encodeJsonMessage(method.response, answer);
    response.writeHead(200, {
      ...CORS_HEADERS,
      'Content-Type': 'application/json',
      ...FORWARDED_METADATA_HEADERS,
      'Content-Length': Buffer.byteLength(json),
    });
    response.end(json);
  }

  private serveStream(method: MethodSchema, request: IncomingMessage, response: ServerResponse, services: CairnServices): void {
    switch (method.name) {
      case 'etcdserverpb.Watch/Watch':
        return this.serveWatch(method, request, response, services);
      case 'etcdserverpb.Lease/LeaseKeepAlive':
        return this.serveKeepAlive(method, request, response, services);
      case 'v3electionpb.Election/Observe':
        return void this.serveObserve(method, request, response, services);
      case 'etcdserverpb.Maintenance/Snapshot':
        return void this.serveSnapshot(method, request, response, services);
      default:
        respondWithError(response, statusOf(unimplemented(method.name)), { fromServer: true });
    }
  }

  /**
   * The watch stream's session, for its caller as authorized when the stream opens (each create is
   * then checked by the view's session). A bad token opens the stream anyway, as etcd's does, and
   * each create is refused with the token's error.
   */
  private async watchSession(services: CairnServices, request: IncomingMessage): Promise<WatchSession> {
    const options = { requireLeader: requiresLeader(request) };
    let view: CairnServices;
    try {
      view = await servicesFor(services, request);
    } catch (err) {
      if (!(err instanceof EtcdError) || services.watch === undefined) throw err;
      return new RefusedWatchSession(services.watch.openStream(options), err);
    }
    if (view.watch === undefined) throw unimplemented('etcdserverpb.Watch/Watch');
    return view.watch.openStream(options);
  }

  private serveWatch(method: MethodSchema, request: IncomingMessage, response: ServerResponse, services: CairnServices): void {
    if (services.watch === undefined) return respondWithError(response, statusOf(unimplemented(method.name)), { fromServer: true });
    const out = new JsonLinesResponse(response);
    // Requests read while the stream opens wait for it, in order.
    let opened: Promise<WireWatchStream | undefined> = Promise.resolve(undefined);
    const open = async (first: WireWatchRequest | undefined): Promise<WireWatchStream | undefined> => {
      let stream: WireWatchStream;
      try {
        const session = await this.watchSession(services, request);
        if (out.closed) {
          session.close();
          return undefined;
        }
        // The stream lives until the client goes away, its body ended or not, as etcd's does.
        const sink = {
          write: (wire: WireWatchResponse) => out.result(this.watchJson.encode(wire)),
          writable: () => out.writable(),
          fail: (err: unknown) => out.fail(err),
        };
        stream = new WireWatchStream(session, sink, this.maxRequestBytes);
      } catch (err) {
        reader.stop();
        out.fail(err);
        return undefined;
      }
      const live = stream;
      out.onClose(() => live.close());
      out.open();
      if (first !== undefined) stream.request(first);
      return stream;
    };
    const reader = readStreamRequests(request, method.request, this.bodyLimit, {
      first: (first) => {
        opened = open(first as unknown as WireWatchRequest | undefined);
      },
      firstFailed: (err) => respondWithError(response, { code: GrpcCode.Unknown, message: err.message }),
      next: (next) => void opened.then((stream) => stream?.request(next as unknown as WireWatchRequest)),
      // The body ended: etcd's watch goes on until the client goes away.
      end: () => undefined,
    });
    out.onClose(() => reader.stop());
  }

  private serveKeepAlive(method: MethodSchema, request: IncomingMessage, response: ServerResponse, services: CairnServices): void {
    if (services.lease === undefined) return respondWithError(response, statusOf(unimplemented(method.name)), { fromServer: true });
    const out = new JsonLinesResponse(response);
    // The caller is authorized once, as the stream opens; requests read meanwhile wait for it, in order.
    // etcd checks no token on a keep-alive (the lease ID renews it): a bad or expired token still renews, as there.
    const opened = servicesFor(services, request)
      .catch((err: unknown) => {
        if (err instanceof EtcdError) return services;
        throw err;
      })
      .then((view) => {
        if (view.lease === undefined) throw unimplemented(method.name);
        return new GatewayKeepAliveStream(out, view.lease, (message) => encodeJsonMessage(method.response, message));
      })
      .catch((err: unknown) => {
        reader.stop();
        out.fail(err);
        return undefined;
      });
    const reader = readStreamRequests(request, method.request, this.bodyLimit, {
      first: (first) => {
        if (first !== undefined) void opened.then((stream) => stream?.request(first as unknown as WireLeaseIdRequest));
      },
      firstFailed: (err) => respondWithError(response, { code: GrpcCode.Unknown, message: err.message }),
      next: (next) => void opened.then((stream) => stream?.request(next as unknown as WireLeaseIdRequest)),
      end: () => void opened.then((stream) => stream?.end()),
    });
    out.onClose(() => reader.stop());
  }

  private async serveObserve(method: MethodSchema, request: IncomingMessage, response: ServerResponse, services: CairnServices): Promise<void> {
    const decoded = await this.readRequest(method, request, response);
    if (decoded === undefined) return;
    let election: CairnServices['election'];
    try {
      election = (await servicesFor(services, request)).election;
    } catch (err) {
      return respondWithError(response, statusOf(err), { fromServer: true });
    }
    if (election === undefined) return respondWithError(response, statusOf(unimplemented(method.name)), { fromServer: true });
    const out = new JsonLinesResponse(response);
    const gone = new AbortController();
    out.onClose(() => gone.abort());
    const observed = election.observe((decoded.message as unknown as WireLeaderRequest).name, gone.signal);
    await streamResults(out, observed, (leader) => encodeJsonMessage(method.response, leaderResponseToWire(leader)));
  }

  private async serveSnapshot(method: MethodSchema, request: IncomingMessage, response: ServerResponse, services: CairnServices): Promise<void> {
    if ((await this.readRequest(method, request, response)) === undefined) return;
    async function* messages(): AsyncGenerator<WireSnapshotResponse> {
      // Only root may take a snapshot: the caller's view refuses the others.
      // A bad token on a Maintenance RPC gets etcd's untranslated "auth: invalid auth token".
      const maintenance = (await servicesFor(services, request).catch((err: unknown) => Promise.reject(maintenanceAuthError(err)))).maintenance;
      const header = headerToWire((await maintenance.status()).header);
      yield* snapshotMessages(maintenance.snapshot(), header);
    }
    await streamResults(new JsonLinesResponse(response), messages(), (message) => encodeJsonMessage(method.response, message));
  }

  /** An SSE watch, for its caller as authorized when it opens: a bad token or a denied range is an HTTP error, so an EventSource does not retry it. */
  private async serveSseWatch(request: IncomingMessage, response: ServerResponse, services: CairnServices, query: string): Promise<void> {
    if (services.watch === undefined) return respondWithError(response, statusOf(unimplemented('etcdserverpb.Watch/Watch')), { fromServer: true });
    const lastEventId = request.headers['last-event-id'];
    try {
      const create = sseWatchRequest(new URLSearchParams(query), typeof lastEventId === 'string' ? lastEventId : undefined);
      const watch = (await servicesFor(services, request)).watch;
      if (watch === undefined) throw unimplemented('etcdserverpb.Watch/Watch');
      if (response.destroyed) return;
      new SseWatchStream(response, watch.openStream({ requireLeader: requiresLeader(request) }), this.watchJson).start(create);
    } catch (err) {
      respondWithError(response, statusOf(err));
    }
  }
}

/** A unary call's context: its size, and a signal, a token and a certificate name only if the method asks (the table authorizes each call). */
function callContext(request: IncomingMessage, response: ServerResponse, encodedSize: number): EtcdCallContext {
  let signal: AbortSignal | undefined;
  return {
    encodedSize,
    get signal(): AbortSignal {
      if (signal === undefined) {
        const controller = new AbortController();
        if (response.destroyed || request.socket.destroyed) controller.abort();
        else
          response.once('close', () => {
            if (!response.writableFinished) controller.abort();
          });
        signal = controller.signal;
      }
      return signal;
    },
    get authToken(): string | undefined {
      return authTokenOf(request.headers);
    },
    get commonName(): string | undefined {
      return commonNameOf(request);
    },
  };
}
