import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { injectable } from 'inversify';

/**
 * Where the client port sends connections that do not speak HTTP/2: the seam for the JSON
 * gateway, which will serve /v3/... here.
 */
export interface Http1Route {
  accept(socket: Socket): void;
  close(): Promise<void>;
}

/** Until the gateway exists: every HTTP/1.x request gets Go's plain 404, as etcd gives for unknown paths. */
@injectable()
export class NotFoundHttp1Route implements Http1Route {
  private readonly server: Server;

  constructor() {
    this.server = createServer((_request: IncomingMessage, response: ServerResponse) => {
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      response.end('404 page not found\n');
    });
  }

  accept(socket: Socket): void {
    this.server.emit('connection', socket);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return Promise.resolve();
  }
}
