import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { RateLimitedWarning, type CairnServices, type ClientHttpRoute, type Logger } from '@cairn/core';

export interface ClientHttpServerOptions {
  /** A request whose headers are not all in after this long is answered 408 and its connection closed (a slowloris). */
  readonly headersTimeoutMs: number;
  readonly logger?: Logger;
  /** Told of each connection closed for a request it never completed or could not be parsed. */
  readonly onRefused?: (reason: 'headers_timeout' | 'bad_request') => void;
}

/** What Go's HTTP server answers bytes it cannot parse as a request (etcd's client port does). */
const BAD_REQUEST_ANSWER = 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request';
const TIMEOUT_ANSWER = 'HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n408 Request Timeout';

/**
 * The HTTP/1.x side of a client port: every request goes to the contributed routes (the JSON
 * gateway, /health, /metrics...) in order; a request no route takes gets Go's plain 404, as etcd
 * answers unknown paths. Headers must arrive within the headers timeout; a long response (a watch
 * stream) is not limited.
 */
export class ClientHttpServer {
  private readonly server: Server;
  private readonly refused: RateLimitedWarning;

  constructor(
    routes: readonly ClientHttpRoute[],
    services: CairnServices,
    private readonly options: ClientHttpServerOptions,
  ) {
    const headersTimeout = options.headersTimeoutMs;
    this.server = createServer(
      {
        headersTimeout,
        // Node's default for a whole request body; never below the headers' own limit.
        requestTimeout: Math.max(300_000, headersTimeout),
        // How often Node looks for requests past those limits: a slowloris is closed within a quarter of the timeout after it.
        connectionsCheckingInterval: Math.min(5_000, Math.max(250, Math.floor(headersTimeout / 4))),
      },
      (request: IncomingMessage, response: ServerResponse) => {
        for (const route of routes) if (route.serve(request, response, services)) return;
        response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
        response.end('404 page not found\n');
      },
    );
    this.refused = new RateLimitedWarning(options.logger, 'closed an HTTP/1 client connection');
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => this.clientError(error, socket));
    // The server never listens (the client port hands it sockets), and Node starts watching for
    // requests past their timeouts only when a server starts listening: start it here.
    this.server.emit('listening');
  }

  /** Serve a connection the client port found to be HTTP/1.x. */
  accept(socket: Socket): void {
    this.server.emit('connection', socket);
  }

  /** Drop every connection (long-lived watch streams included), and stop watching for timeouts. */
  close(): void {
    this.server.closeAllConnections();
    this.server.close();
  }

  /** A request that timed out or could not be parsed: answered as Go's server would, counted, logged at a bounded rate. */
  private clientError(error: NodeJS.ErrnoException, socket: Socket): void {
    const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    const malformed = error.code?.startsWith('HPE_') === true;
    if (timedOut || malformed) {
      this.options.onRefused?.(timedOut ? 'headers_timeout' : 'bad_request');
      this.refused.warn({
        remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`,
        reason: timedOut ? `request headers not complete within ${this.options.headersTimeoutMs} ms` : `unparsable request (${error.code})`,
      });
      // Only on a connection that has not been answered yet, as Node's own handler does.
      if (socket.writable && socket.bytesWritten === 0) socket.write(timedOut ? TIMEOUT_ANSWER : BAD_REQUEST_ANSWER);
    }
    socket.destroy();
  }
}
