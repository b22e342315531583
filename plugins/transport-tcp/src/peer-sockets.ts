import { connect as connectPlain, createServer as createPlainServer, type Server, type Socket } from 'node:net';
import { connect as connectTls, createServer as createTlsServer } from 'node:tls';
import type { PeerAddress } from './peer-address.js';

/** Mutual TLS between members: each presents `cert`/`key` and trusts peers signed by `ca` (all PEM). */
export interface PeerTlsOptions {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  readonly ca: string | Buffer;
}

/** How the transport opens and accepts peer connections: plain TCP or TLS over it. */
export interface PeerSockets {
  /** A listener; `onSocket` gets each connection once it is ready for frames. */
  createServer(onSocket: (socket: Socket) => void, onHandshakeError: (error: Error, remote: string) => void): Server;
  /** A connection; `onReady` runs once frames can flow (after the TLS handshake under TLS). */
  connect(address: PeerAddress, onReady: () => void): Socket;
}

export const plainPeerSockets: PeerSockets = {
  createServer: (onSocket) => createPlainServer(onSocket),
  connect: (address, onReady) => connectPlain({ host: address.host, port: address.port }, onReady),
};

export function tlsPeerSockets(tls: PeerTlsOptions): PeerSockets {
  return {
    createServer: (onSocket, onHandshakeError) => {
      // requestCert + rejectUnauthorized: a member without a certificate from our CA never gets to send a frame.
      const server = createTlsServer(
        { cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
        onSocket,
      );
      server.on('tlsClientError', (error, socket) => onHandshakeError(error, `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`));
      return server;
    },
    connect: (address, onReady) =>
      connectTls({ host: address.host, port: address.port, cert: tls.cert, key: tls.key, ca: tls.ca, minVersion: 'TLSv1.2' }, onReady),
  };
}
