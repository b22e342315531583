import type { ServerResponse } from 'node:http';
import { CORS_HEADERS, httpStatusFromCode, statusOf, streamErrorJson } from './gateway-error.js';

/** What etcd's gateway sends with every answer: the gRPC response's content type, as grpc-gateway forwards response metadata. */
export const FORWARDED_METADATA_HEADERS: Readonly<Record<string, string>> = { 'Grpc-Metadata-Content-Type': 'application/grpc' };

/**
 * A stream RPC's answer as etcd's gateway writes it (grpc-gateway v1's ForwardResponseStream): a
 * chunked 200 of newline-delimited `{"result": ...}` objects, each sent as it comes, and a
 * failure as one last `{"error": {...}}` object, under the failure's HTTP status when it came
 * before anything else was sent.
 */
export class JsonLinesResponse {
  private opened = false;
  private finished = false;
  private readonly goneListeners: (() => void)[] = [];

  constructor(private readonly response: ServerResponse) {
    response.once('close', () => {
      this.finished = true;
      for (const listener of this.goneListeners.splice(0)) listener();
    });
  }

  /** The answer is over: the client went away, or it was ended. */
  get closed(): boolean {
    return this.finished;
  }

  /** Call `listener` once the connection closes (the client went away or the answer ended). */
  onClose(listener: () => void): void {
    if (this.finished) listener();
    else this.goneListeners.push(listener);
  }

  /** Send the status line and headers now, so a client sees the stream open before its first result. */
  open(): void {
    if (this.opened || this.finished) return;
    this.opened = true;
    this.response.writeHead(200, { ...CORS_HEADERS, 'Content-Type': 'application/json', ...FORWARDED_METADATA_HEADERS });
    this.response.flushHeaders();
  }

  /** One result (a response message's JSON); false when the client is not keeping up (wait for `writable()`). */
  result(json: string): boolean {
    if (this.finished) return true;
    this.open();
    return this.response.write(`{"result":${json}}\n`);
  }

  /** Resolves when the client has taken what was written, or went away. */
  writable(): Promise<void> {
    if (this.finished || !this.response.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.response.off('drain', done);
        resolve();
      };
      this.response.on('drain', done);
      this.onClose(done);
    });
  }

  /** End the stream with `err`, as its stream error object. */
  fail(err: unknown): void {
    if (this.finished) return;
    const status = statusOf(err);
    if (!this.opened) {
      this.opened = true;
      this.response.writeHead(httpStatusFromCode(status.code), { ...CORS_HEADERS, 'Content-Type': 'application/json' });
    }
    this.finished = true;
    this.response.end(streamErrorJson(status));
  }

  end(): void {
    if (this.finished) return;
    this.open();
    this.finished = true;
    this.response.end();
  }
}
