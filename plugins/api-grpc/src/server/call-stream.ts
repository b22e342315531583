import type { OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { encodeGrpcMessage, type GrpcStatus } from '../grpc-status.js';

/** gRPC's response headers; one frozen object, so nothing is built per call. */
const RESPONSE_HEADERS: OutgoingHttpHeaders = Object.freeze({
  ':status': 200,
  'content-type': 'application/grpc+proto',
  'grpc-accept-encoding': 'identity,deflate,gzip',
});

const OK_TRAILERS: OutgoingHttpHeaders = Object.freeze({ 'grpc-status': '0' });

function trailersOf(status: GrpcStatus): OutgoingHttpHeaders {
  if (status.code === 0) return OK_TRAILERS;
  return { 'grpc-status': String(status.code), 'grpc-message': encodeGrpcMessage(status.details) };
}

/** Answer a stream with a status and nothing else (gRPC's trailers-only response). */
export function answerWithStatus(stream: ServerHttp2Stream, status: GrpcStatus): void {
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  stream.respond({ ...RESPONSE_HEADERS, ...trailersOf(status) }, { endStream: true });
}

/**
 * The HTTP/2 side of one gRPC call: the response headers before the first message, messages, the
 * status in the trailers (in the same turn as the last message), and the client's going away
 * (a reset, a closed connection, a passed deadline) reported once through `onCancelled`.
 */
export class CallStream {
  private finished = false;
  private cancelledFlag = false;
  private deadline: NodeJS.Timeout | undefined;

  constructor(
    readonly stream: ServerHttp2Stream,
    private readonly onCancelled: () => void,
    /** Told whenever headers or data go out (the client's ping policy counts them). */
    private readonly onSend: () => void,
  ) {
    stream.once('close', () => {
      clearTimeout(this.deadline);
      if (!this.finished) this.cancel();
    });
    // A reset or a broken connection also closes the stream: that is where it is handled.
    stream.on('error', () => undefined);
  }

  /** The client cancelled, went away, or the deadline passed: nothing more is sent. */
  get cancelled(): boolean {
    return this.cancelledFlag;
  }

  /** Nothing more can be sent: a status went out or the call was cancelled. */
  get done(): boolean {
    return this.finished || this.cancelledFlag;
  }

  /** End the call with DEADLINE_EXCEEDED after `ms` unless it finished before (the client's grpc-timeout). */
  expireAfter(ms: number): void {
    this.deadline = setTimeout(() => {
      this.finish({ code: 4, details: 'Deadline exceeded' });
      this.cancel();
    }, ms);
  }

  /** Send framed messages; false when HTTP/2 wants the caller to wait for 'drain'. */
  write(frames: Buffer, done?: (error?: Error | null) => void): boolean {
    if (this.done || this.stream.destroyed) {
      done?.();
      return true;
    }
    if (!this.stream.headersSent) this.stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
    this.onSend();
    return done === undefined ? this.stream.write(frames) : this.stream.write(frames, done);
  }

  /** End the call with `status`, after `lastFrames` when given. Later calls do nothing. */
  finish(status: GrpcStatus, lastFrames?: Buffer): void {
    if (this.done) return;
    this.finished = true;
    clearTimeout(this.deadline);
    const stream = this.stream;
    if (stream.destroyed || stream.closed) return;
    this.onSend();
    if (!stream.headersSent) {
      if (lastFrames === undefined) {
        answerWithStatus(stream, status);
        return;
      }
      stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
    }
    const trailers = trailersOf(status);
    stream.once('wantTrailers', () => {
      if (!stream.destroyed) stream.sendTrailers(trailers);
    });
    if (lastFrames === undefined) stream.end();
    else stream.end(lastFrames);
  }

  private cancel(): void {
    if (this.cancelledFlag) return;
    this.cancelledFlag = true;
    this.onCancelled();
  }
}
