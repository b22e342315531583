import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { CairnServices, ClientHttpRoute } from '@cairn/core';

/**
 * The HTTP/1.x side of a client port: every request goes to the contributed routes (the JSON
 * gateway, /health, /metrics...) in order; a request no route takes gets Go's plain 404, as etcd
 * answers unknown paths.
 */
export class ClientHttpServer {
  private readonly server: Server;

  constructor(routes: readonly ClientHttpRoute[], services: CairnServices) {
    this.server = createServer((request: IncomingMessage, response: ServerResponse) => {
      for (const route of routes) if (route.serve(request, response, services)) return;
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      response.end('404 page not found\n');
    });
  }

  /** Serve a connection the client port found to be HTTP/1.x. */
  accept(socket: Socket): void {
    this.server.emit('connection', socket);
  }

  /** Drop every connection (long-lived watch streams included). */
  close(): void {
    this.server.closeAllConnections();
  }
}
