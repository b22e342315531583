import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { RateLimitedWarning, requiresClientCertificate, type Logger, type TlsCredentials } from '@cairn/core';

/** Every HTTP/2 connection begins with this preface (RFC 9113 §3.4); gRPC is HTTP/2. */
const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
/** A TLS record of type handshake (a ClientHello) starts every TLS connection. */
const TLS_HANDSHAKE_RECORD = 0x16;
/** What Go's HTTP server answers an HTTP request on a TLS port (etcd's client port does). */
const HTTP_ON_HTTPS_ANSWER = 'HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n';
/** Go's HTTP server's answer to bytes it cannot parse as a request (a TLS ClientHello on a plain port). */
const BAD_REQUEST_ANSWER = 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request';
/**
 * A connection that has not shown what it speaks by then is closed: its TLS handshake, then an
 * HTTP/2 preface with its first frame (grpc-go's ConnectionTimeout rule, 120 s there) or an
 * HTTP/1.1 request's headers (the HTTP/1 server's headers timeout). Slowloris clients hold a
 * socket each for this long at most.
 */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** An HTTP/2 frame header: 24-bit length, type, flags, stream ID. */
const HTTP2_FRAME_HEADER_BYTES = 9;

/** Why the client port closed a connection before serving it: the `reason` label of `cairn_client_refused_connections_total`. */
export type ClientRefusalReason = 'handshake_timeout' | 'tls_on_plain_port' | 'plain_on_tls_port' | 'tls_handshake';

export interface ClientPortRoutes {
  http2(socket: Socket): void;
  http1(socket: Socket): void;
}

export interface ClientPortOptions {
  /** Serve TLS (an https:// client URL) with these credentials; absent: plain TCP. */
  readonly tls?: TlsCredentials;
  readonly logger?: Logger;
  /** See DEFAULT_HANDSHAKE_TIMEOUT_MS. */
  readonly handshakeTimeoutMs?: number;
  /** Told of each connection closed before it was served (metrics). */
  readonly onRefused?: (reason: ClientRefusalReason) => void;
}

export type ProtocolGuess = 'http2' | 'http1' | 'tls' | 'undecided';

/** Which protocol a connection speaks, from its first bytes. */
export function guessProtocol(head: Buffer): ProtocolGuess {
  if (head.length > 0 && head[0] === TLS_HANDSHAKE_RECORD) return 'tls';
  const n = Math.min(head.length, HTTP2_PREFACE.length);
  if (head.subarray(0, n).compare(HTTP2_PREFACE, 0, n) !== 0) return 'http1';
  return n === HTTP2_PREFACE.length ? 'http2' : 'undecided';
}

/** Whether `head` (which begins with the HTTP/2 preface) also holds the whole first frame after it, the client's SETTINGS. */
function holdsFirstHttp2Frame(head: Buffer): boolean {
  const frameAt = HTTP2_PREFACE.length;
  if (head.length < frameAt + HTTP2_FRAME_HEADER_BYTES) return false;
  return head.length >= frameAt + HTTP2_FRAME_HEADER_BYTES + head.readUIntBE(frameAt, 3);
}

const remoteOf = (socket: Socket): string => `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;

/**
 * One client port for gRPC and HTTP/1.1, as etcd has: a plain TCP server that reads a connection's
 * first bytes, puts them back, and hands the socket to the HTTP/2 (gRPC) or the HTTP/1.1 route.
 * On an https:// URL it terminates TLS first (ALPN h2 / http/1.1, routed on the protocol
 * negotiated) with the credentials re-read per connection when their files changed; a client
 * certificate the CA did not sign is refused after the handshake. Plain text on a TLS port and
 * TLS on a plain port are refused as Go's server refuses them, with a rate-limited warning.
 */
export class ClientPortListener {
  private readonly server: Server;
  private readonly tlsServer: TlsServer | undefined;
  /** Sockets still being sniffed or in their TLS handshake, closed on stop. */
  private readonly undecided = new Set<Socket>();
  /** Raw sockets in their TLS handshake, by connection (their TLS socket replaces them after). */
  private readonly handshaking = new Map<string, Socket>();
  private readonly refusedPlain: RateLimitedWarning;
  private readonly refusedTls: RateLimitedWarning;
  private readonly failedHandshake: RateLimitedWarning;
  private readonly timedOut: RateLimitedWarning;
  private readonly handshakeTimeoutMs: number;

  constructor(
    private readonly routes: ClientPortRoutes,
    private readonly options: ClientPortOptions = {},
  ) {
    const { tls, logger } = options;
    this.refusedPlain = new RateLimitedWarning(logger, 'refused a plain-text connection on a TLS client port');
    this.refusedTls = new RateLimitedWarning(logger, 'refused a TLS connection on a plain-text client port');
    this.failedHandshake = new RateLimitedWarning(logger, 'refused a client connection at the TLS handshake');
    this.timedOut = new RateLimitedWarning(logger, 'closed a client connection that did not complete its handshake in time');
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    if (tls === undefined) {
      this.server = createServer((socket) => this.sniff(socket));
      return;
    }
    // The server's order decides (OpenSSL picks its first protocol the client offers): gRPC clients
    // offer h2 alone, while curl and browsers offer both and get HTTP/1.1 — the gateway's protocol
    // here, since the gRPC server owns every HTTP/2 connection (etcd's Go server routes HTTP/2 per request).
    const tlsServer = createTlsServer({ ...tls.serverOptions(), ALPNProtocols: ['http/1.1', 'h2'], handshakeTimeout: this.handshakeTimeoutMs });
    tlsServer.on('secureConnection', (socket: TLSSocket) => this.secured(socket, tls));
    tlsServer.on('tlsClientError', (error: Error, socket: TLSSocket) => {
      this.handshakeDone(socket);
      this.options.onRefused?.('tls_handshake');
      this.failedHandshake.warn({ remote: remoteOf(socket), reason: error.message });
    });
    this.tlsServer = tlsServer;
    this.server = createServer((socket) => this.sniffTls(socket, tls, tlsServer));
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
    this.handshaking.clear();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Close `socket` if it has not shown its protocol within the handshake timeout; returns the disarm function. */
  private deadline(socket: Socket, what: string): () => void {
    const timer = setTimeout(() => {
      this.undecided.delete(socket);
      this.options.onRefused?.('handshake_timeout');
      this.timedOut.warn({ remote: remoteOf(socket), waitedMs: this.handshakeTimeoutMs, missing: what });
      socket.destroy();
    }, this.handshakeTimeoutMs);
    timer.unref();
    return () => clearTimeout(timer);
  }

  private sniff(socket: Socket): void {
    this.undecided.add(socket);
    socket.setNoDelay(true);
    const seen: Buffer[] = [];
    const disarm = this.deadline(socket, 'an HTTP/2 preface and first frame, or an HTTP/1 request');
    const forget = (): void => {
      disarm();
      socket.off('readable', onReadable);
      socket.off('close', onClose);
      socket.off('error', onError);
      this.undecided.delete(socket);
    };
    const onClose = (): void => forget();
    // A reset before the route has the socket must not become an uncaught error.
    const onError = (): void => void socket.destroy();
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) seen.push(chunk);
      const head = Buffer.concat(seen);
      const guess = guessProtocol(head);
      // HTTP/2 is routed once its first frame is in too: a preface alone is not a client yet.
      if (guess === 'undecided' || (guess === 'http2' && !holdsFirstHttp2Frame(head))) return;
      forget();
      if (guess === 'tls') {
        this.options.onRefused?.('tls_on_plain_port');
        this.refusedTls.warn({ remote: remoteOf(socket) });
        socket.end(BAD_REQUEST_ANSWER);
        return;
      }
      socket.unshift(head);
      if (guess === 'http2') this.routes.http2(socket);
      else this.routes.http1(socket);
    };
    socket.on('readable', onReadable);
    socket.on('close', onClose);
    socket.on('error', onError);
  }

  /** A connection to a TLS port: a ClientHello goes to the TLS server, anything else is refused. */
  private sniffTls(socket: Socket, tls: TlsCredentials, tlsServer: TlsServer): void {
    this.undecided.add(socket);
    socket.setNoDelay(true);
    // Until the first byte; the TLS server's own handshake timeout takes over from there.
    const disarm = this.deadline(socket, 'a TLS ClientHello');
    const onClose = (): void => {
      disarm();
      this.undecided.delete(socket);
      this.handshaking.delete(remoteOf(socket));
    };
    socket.once('close', onClose);
    socket.on('error', () => socket.destroy());
    socket.once('readable', () => {
      disarm();
      const head = socket.read() as Buffer | null;
      if (head === null) return; // ended before a byte
      if (head[0] !== TLS_HANDSHAKE_RECORD) {
        this.undecided.delete(socket);
        this.options.onRefused?.('plain_on_tls_port');
        this.refusedPlain.warn({ remote: remoteOf(socket) });
        // Go answers what looks like an HTTP/1 request with a 400 and closes anything else.
        if (guessProtocol(head) === 'http1') socket.end(HTTP_ON_HTTPS_ANSWER);
        else socket.destroy();
        return;
      }
      socket.unshift(head);
      this.handshaking.set(remoteOf(socket), socket);
      // Certificates rotated on disk take effect here, for this connection and the next ones.
      if (tls.refresh()) tlsServer.setSecureContext(tls.contextOptions());
      tlsServer.emit('connection', socket);
    });
  }

  private handshakeDone(socket: TLSSocket): void {
    const raw = this.handshaking.get(remoteOf(socket));
    if (raw === undefined) return;
    this.handshaking.delete(remoteOf(socket));
    this.undecided.delete(raw);
  }

  private secured(socket: TLSSocket, tls: TlsCredentials): void {
    this.handshakeDone(socket);
    if (requiresClientCertificate(tls.settings) && !socket.authorized) {
      // Node would drop a certificate of another CA without a word: refuse it here, and say so.
      this.options.onRefused?.('tls_handshake');
      this.failedHandshake.warn({ remote: remoteOf(socket), reason: `client certificate refused: ${String(socket.authorizationError ?? 'none given')}` });
      socket.destroy();
      return;
    }
    if (socket.alpnProtocol === 'http/1.1') this.routes.http1(socket);
    // h2 waits for its preface and first frame under the handshake timeout, as on a plain port; with
    // no ALPN (a client that did not offer it) the first bytes tell the protocols apart.
    else this.sniff(socket);
  }
}
