import { connect as connectPlain, createServer as createPlainServer, type Server, type Socket } from 'node:net';
import {
  connect as connectTls,
  createServer as createTlsServer,
  type ConnectionOptions,
  type SecureContextOptions,
  type TLSSocket,
  type TlsOptions,
} from 'node:tls';
import { requiresClientCertificate, type TlsCredentials } from '@cairn/core';
import type { PeerAddress } from './peer-address.js';

/** Mutual TLS between members: each presents `cert`/`key` and trusts peers signed by `ca` (all PEM). */
export interface PeerTlsOptions {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  readonly ca: string | Buffer;
}

/**
 * Where TLS peer sockets get their options, asked again for every connection: the core's
 * `TlsCredentials` (etcd's --peer-* flags, files re-read when they change) or fixed PEM bytes.
 */
export interface PeerTlsSource {
  /** True when the files changed since the last call and new options are in use. */
  refresh(): boolean;
  serverOptions(): TlsOptions;
  contextOptions(): SecureContextOptions;
  clientOptions(): ConnectionOptions;
  /** Whether an accepted peer must show a certificate our CA signed. */
  readonly verifiesPeers: boolean;
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

/** The plugin's own `tls` option as a source: mutual TLS with fixed PEM bytes. */
export function fixedPeerTls(tls: PeerTlsOptions): PeerTlsSource {
  const context = { cert: tls.cert, key: tls.key, ca: tls.ca, minVersion: 'TLSv1.2' as const };
  return {
    refresh: () => false,
    serverOptions: () => ({ ...context, requestCert: true, rejectUnauthorized: false }),
    contextOptions: () => context,
    clientOptions: () => context,
    verifiesPeers: true,
  };
}

/** etcd's --peer-* flags as a source (files re-read when they change on disk). */
export function credentialsPeerTls(credentials: TlsCredentials): PeerTlsSource {
  return {
    refresh: () => credentials.refresh(),
    serverOptions: () => credentials.serverOptions(),
    contextOptions: () => credentials.contextOptions(),
    clientOptions: () => credentials.clientOptions(),
    verifiesPeers: requiresClientCertificate(credentials.settings),
  };
}

const remoteOf = (socket: Socket): string => `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;

/** Errors of a dial that reached the peer but failed its TLS handshake (not a refused or reset TCP connection). */
const isHandshakeFailure = (error: NodeJS.ErrnoException): boolean => error.code === undefined || !/^E[A-Z]+$/.test(error.code) || error.code === 'ECONNRESET';

/**
 * TLS peer sockets. `onDialRefused` hears of a dial whose handshake failed: the peer's
 * certificate did not verify against our CA, or the peer refused ours.
 */
export function tlsPeerSockets(source: PeerTlsSource, onDialRefused?: (error: Error, remote: string) => void): PeerSockets {
  return {
    createServer: (onSocket, onHandshakeError) => {
      // The certificate is checked here rather than by Node (rejectUnauthorized: false in the
      // options): Node drops a certificate of another CA without an event, and the refusal must
      // be logged. A member refused so never gets to send a frame.
      const server = createTlsServer(source.serverOptions(), (socket: TLSSocket) => {
        if (source.verifiesPeers && !socket.authorized) {
          onHandshakeError(new Error(`peer certificate refused: ${String(socket.authorizationError ?? 'none given')}`), remoteOf(socket));
          socket.destroy();
          return;
        }
        onSocket(socket);
      });
      // Before the TLS server takes the connection: certificates rotated on disk apply from this one on.
      server.prependListener('connection', () => {
        if (source.refresh()) server.setSecureContext(source.contextOptions());
      });
      server.on('tlsClientError', (error, socket) => onHandshakeError(error, remoteOf(socket)));
      return server;
    },
    connect: (address, onReady) => {
      source.refresh();
      let secured = false;
      const socket = connectTls({ host: address.host, port: address.port, ...source.clientOptions() }, () => {
        secured = true;
        onReady();
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        if (!secured && isHandshakeFailure(error)) onDialRefused?.(error, `${address.host}:${address.port}`);
      });
      return socket;
    },
  };
}
