import type { IncomingMessage } from 'node:http';
import { TLSSocket } from 'node:tls';
import type { CairnServices, CallerCredentials } from '@cairn/core';
import { authTokenOf } from './auth-token.js';

/**
 * The Common Name of the client certificate the request's TLS handshake verified against
 * --trusted-ca-file, if any: a certificate the CA did not sign (the socket is not `authorized`) names nobody.
 */
export function commonNameOf(request: IncomingMessage): string | undefined {
  const socket = request.socket;
  if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined;
  // Go's Subject.CommonName, as etcd reads it: the last CN when there are several.
  const cn: unknown = socket.getPeerCertificate().subject?.CN;
  const name = Array.isArray(cn) ? cn[cn.length - 1] : cn;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/** Who the caller of a gateway request says it is: its Authorization token and its certificate's name. */
export function callerCredentials(request: IncomingMessage): CallerCredentials {
  return { token: authTokenOf(request.headers), commonName: commonNameOf(request) };
}

/**
 * The services as the caller of `request` may use them: the member's own when it has no auth,
 * else the view `authorize` gives (rejecting with etcd's token errors). Streams call it once, when they open.
 */
export function servicesFor(services: CairnServices, request: IncomingMessage): Promise<CairnServices> {
  return services.authorize === undefined ? Promise.resolve(services) : services.authorize(callerCredentials(request));
}
