import type { PeerCertificate } from 'node:tls';
import type { Socket } from 'node:net';
import { commonNameOfCertificate, verifiedCommonName } from '@cairn/core';
import { ServerInterceptingCall, type Metadata, type ServerInterceptingCallInterface, type ServerInterceptor } from '@grpc/grpc-js';

/** What `commonNameOf` reads of a call: every grpc-js server call (unary, streaming) has both. */
export interface GrpcCallCredentials {
  readonly metadata: Metadata;
  getAuthContext(): { readonly sslPeerCertificate?: PeerCertificate };
}

/**
 * The verified CN of client-port connections that reach grpc-js through the `:authority`-repairing
 * stream rather than as the TLS socket itself. grpc-js reads the certificate off the TLS socket it
 * is given (`getAuthContext`); a repaired connection is a plain Duplex to it, so the CN is kept
 * here, keyed by that Duplex, for the interceptor below.
 */
export class VerifiedConnections {
  private readonly names = new WeakMap<object, string>();

  /** `connection` (what grpc-js gets) carries `socket`'s traffic: it gets `socket`'s verified CN, if any. */
  adopt(socket: Socket, connection: object): void {
    const cn = verifiedCommonName(socket);
    if (cn !== undefined && connection !== socket) this.names.set(connection, cn);
  }

  get(connection: object | undefined): string | undefined {
    return connection === undefined ? undefined : this.names.get(connection);
  }
}

/**
 * The Duplex grpc-js's HTTP/2 session was given, from the call an interceptor sees: Node wraps a
 * Duplex that is not a socket in a JSStreamSocket whose `stream` it is. These are internals of
 * grpc-js (the call's `stream`) and Node (`stream`): a change makes this undefined — no CN, never
 * a wrong one — and the test of the repaired path fails.
 */
function connectionOf(call: ServerInterceptingCallInterface): object | undefined {
  const inner = (call as { stream?: { session?: { socket?: { stream?: unknown } } } }).stream?.session?.socket?.stream;
  return typeof inner === 'object' && inner !== null ? inner : undefined;
}

/** Each call's verified CN, keyed by the metadata object grpc-js hands the handler (no client can make an entry). */
const verifiedNames = new WeakMap<Metadata, string>();

/**
 * A grpc-js server interceptor, installed only on frontends that serve TLS (plain ones pay
 * nothing): before a handler sees a call, it notes the verified CN of the call's connection —
 * from grpc-js's auth context (the TLS socket itself) or from `connections` (the socket behind
 * the authority repair) — for `commonNameOf`.
 */
export function verifiedCommonNameInterceptor(connections: VerifiedConnections): ServerInterceptor {
  return (_method, call: ServerInterceptingCallInterface) =>
    new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, pass) => {
            const cn = commonNameOfCertificate(call.getAuthContext().sslPeerCertificate) ?? connections.get(connectionOf(call));
            if (cn !== undefined) verifiedNames.set(metadata, cn);
            pass(metadata);
          },
        }),
    });
}

/**
 * The CN of the client certificate of a gRPC call's connection, if the TLS handshake verified it
 * against --trusted-ca-file (etcd's user when auth is on and --client-cert-auth is set); undefined
 * on a plain connection or without a verified certificate.
 */
export function commonNameOf(call: GrpcCallCredentials): string | undefined {
  return verifiedNames.get(call.metadata) ?? commonNameOfCertificate(call.getAuthContext().sslPeerCertificate);
}
