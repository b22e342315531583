import type { Metadata } from '@grpc/grpc-js';
import { servicesAs, type CairnServices, type CallerCredentials } from '@cairn/core';
import type { CallCaller } from './server/server-calls.js';

/** Where etcd clients put their auth token (etcd's rpctypes.TokenFieldNameGRPC, then TokenFieldNameSwagger). */
const TOKEN_METADATA_KEYS = ['token', 'authorization'] as const;

/** The auth token the call's metadata carries, if any. */
export function authTokenOf(metadata: Metadata): string | undefined {
  for (const key of TOKEN_METADATA_KEYS) {
    const value = metadata.get(key)[0];
    if (value !== undefined) return value.toString();
  }
  return undefined;
}

/** Who the caller of `call` says it is: the one place the gRPC frontend reads a token and a certificate name. */
export function callerCredentials(call: CallCaller): CallerCredentials {
  return { token: authTokenOf(call.metadata), commonName: call.commonName };
}

/**
 * The services as the caller of `call` may use them: the member's own when it has no auth, else
 * the view `authorize` gives (rejecting with etcd's token errors). Streams call it once, when they open.
 */
export function servicesFor(services: CairnServices, call: CallCaller): Promise<CairnServices> {
  return servicesAs(services, callerCredentials(call));
}
