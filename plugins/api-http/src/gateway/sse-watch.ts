import type { ServerResponse } from 'node:http';
import {
  EtcdError,
  EtcdErrors,
  GrpcCode,
  watchResponseToWire,
  type StreamWatch,
  type WatchCreateRequest,
  type WatchSession,
  type WireWatchResponse,
} from '@cairn/core';
import { CORS_HEADERS, errorJson, respondWithError, statusOf, type GatewayStatus } from './gateway-error.js';
import type { WatchResponseJson } from './watch-response-json.js';

/** How often an idle SSE watch sends a comment, so that proxies and load balancers keep it open. */
export const SSE_KEEPALIVE_MS = 15_000;

/** A cancel reason in grpc-go's error text, as etcd words a refused create ("rpc error: code = PermissionDenied desc = ..."). */
const GRPC_ERROR_TEXT = /^rpc error: code = (\w+) desc = (.*)$/s;

/** The status of a refused create: the code and message its cancel reason names, else the reason as an invalid argument. */
function refusalStatus(cancelReason: string): GatewayStatus {
  const match = GRPC_ERROR_TEXT.exec(cancelReason);
  const code = match === null ? undefined : (GrpcCode as Record<string, GrpcCode | string | undefined>)[match[1]!];
  return typeof code === 'number' ? { code, message: match![2]! } : { code: GrpcCode.InvalidArgument, message: cancelReason };
}

/**
 * One SSE watch (a Cairn extension): each etcd event is one SSE event whose data is the event's
 * JSON as the gateway writes it (mvccpb.Event: `type` left out for a PUT, keys and values in
 * base64). The last event of each revision carries `id: <revision>`, so a client that resumes
 * with Last-Event-ID never skips the rest of a revision it saw only part of. A watch that cannot
 * go on (its start revision compacted, the member ending it) ends with an `event: error` whose
 * data is etcd's error JSON (with `compact_revision` when compacted).
 */
export class SseWatchStream {
  private done = false;
  private keepAlive: NodeJS.Timeout | undefined;

  constructor(
    private readonly response: ServerResponse,
    private readonly session: WatchSession,
    private readonly json: WatchResponseJson,
    private readonly keepAliveMs: number = SSE_KEEPALIVE_MS,
  ) {}

  start(request: WatchCreateRequest): void {
    const created = this.session.create(request);
    const watch = created.watch;
    if (watch === undefined) {
      // Refused at once (an empty range, a range the caller may not read): an HTTP error, so an EventSource does not retry it.
      this.session.close();
      respondWithError(this.response, refusalStatus(created.response.cancelReason));
      return;
    }
    this.response.writeHead(200, {
      ...CORS_HEADERS,
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      // Tells nginx not to buffer the stream.
      'X-Accel-Buffering': 'no',
    });
    this.response.write(`: watching from revision ${this.startRevision(request, created.response)}\n\n`);
    this.response.once('close', () => this.close());
    this.session.onAbort((error) => this.fail(statusOf(error)));
    this.keepAlive = setInterval(() => this.response.write(': keep-alive\n\n'), this.keepAliveMs);
    void this.pump(watch);
  }

  private startRevision(request: WatchCreateRequest, created: { readonly header: { readonly revision: number } }): number {
    return request.startRevision ?? created.header.revision + 1;
  }

  private async pump(watch: StreamWatch): Promise<void> {
    try {
      for (;;) {
        if (this.done) return;
        const response = await watch.next();
        if (response === undefined || this.done) return;
        const wire = watchResponseToWire(response);
        if (wire.canceled) {
          this.ended(wire);
          return;
        }
        if (wire.events.length > 0 && !this.response.write(this.eventsText(wire))) await this.drained();
      }
    } catch (err) {
      this.fail(statusOf(err));
    }
  }

  /** The events of one response; `id:` on the last event of each revision. */
  private eventsText(wire: WireWatchResponse): string {
    let text = '';
    const events = wire.events;
    for (let i = 0; i < events.length; i++) {
      const revision = String(events[i]!.kv.mod_revision);
      const last = i === events.length - 1 || String(events[i + 1]!.kv.mod_revision) !== revision;
      text += `${last ? `id: ${revision}\n` : ''}data: ${this.json.eventJson(events[i]!)}\n\n`;
    }
    return text;
  }

  private ended(wire: WireWatchResponse): void {
    if (Number(wire.compact_revision) > 0) {
      const compacted = EtcdErrors.compacted();
      this.fail({ code: compacted.code, message: compacted.message }, `,"compact_revision":"${wire.compact_revision}"`);
    } else {
      this.fail(statusOf(new EtcdError(GrpcCode.Canceled, wire.cancel_reason === '' ? 'watch canceled' : wire.cancel_reason)));
    }
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.response.off('drain', done);
        this.response.off('close', done);
        resolve();
      };
      this.response.on('drain', done);
      this.response.on('close', done);
    });
  }

  /** End the stream with an error event (etcd's error JSON, plus `extra` members). */
  private fail(status: GatewayStatus, extra = ''): void {
    if (this.done) return;
    const data = `${errorJson(status).slice(0, -1)}${extra}}`;
    this.response.end(`event: error\ndata: ${data}\n\n`);
    this.close();
  }

  private close(): void {
    if (this.done) return;
    this.done = true;
    clearInterval(this.keepAlive);
    this.session.close();
  }
}

/** Whether a request asks for an event stream (an EventSource sends `Accept: text/event-stream`). */
export function wantsEventStream(accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/event-stream\s*(;|,|$)/i.test(accept);
}
