import type { IncomingMessage } from 'node:http';
import { servicesAs, verifiedCommonName, type CairnServices, type CallerCredentials } from '@cairn/core';
import { authTokenOf } from './auth-token.js';

/** The Common Name of the client certificate the request's TLS handshake verified, if any. */
export function commonNameOf(request: IncomingMessage): string | undefined {
  return verifiedCommonName(request.socket);
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
  return servicesAs(services, callerCredentials(request));
}
