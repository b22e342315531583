import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** Every HTTP/2 connection begins with this preface (RFC 9113 §3.4); gRPC is HTTP/2. */
const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export interface ClientPortRoutes {
  http2(socket: Socket): void;
  http1(socket: Socket): void;
}

export type ProtocolGuess = 'http2' | 'http1' | 'undecided';

/** Which protocol a connection speaks, from its first bytes. */
export function guessProtocol(head: Buffer): ProtocolGuess {
  const n = Math.min(head.length, HTTP2_PREFACE.length);
  if (head.subarray(0, n).compare(HTTP2_PREFACE, 0, n) !== 0) return 'http1';
  return n === HTTP2_PREFACE.length ? 'http2' : 'undecided';
}

/**
 * One client port for gRPC and HTTP/1.1, as etcd has: a plain TCP server that reads a connection's
 * first bytes, puts them back, and hands the socket to the HTTP/2 (gRPC) or the HTTP/1.1 route.
 */
export class ClientPortListener {
  private readonly server: Server;
  /** Sockets still being sniffed, closed on stop. */
  private readonly undecided = new Set<Socket>();

  constructor(private readonly routes: ClientPortRoutes) {
    this.server = createServer((socket) => this.sniff(socket));
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen({ host, port }, () => {
        this.server.off('error', onError);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** Stop accepting and drop connections still undecided; routed ones are their route's to close. */
  close(): Promise<void> {
    for (const socket of this.undecided) socket.destroy();
    this.undecided.clear();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private sniff(socket: Socket): void {
    this.undecided.add(socket);
    socket.setNoDelay(true);
    const seen: Buffer[] = [];
    const forget = (): void => {
      socket.off('readable', onReadable);
      socket.off('close', onClose);
      this.undecided.delete(socket);
    };
    const onClose = (): void => forget();
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) seen.push(chunk);
      const head = Buffer.concat(seen);
      const guess = guessProtocol(head);
      if (guess === 'undecided') return;
      forget();
      socket.unshift(head);
      if (guess === 'http2') this.routes.http2(socket);
      else this.routes.http1(socket);
    };
    socket.on('readable', onReadable);
    socket.on('close', onClose);
  }
}
