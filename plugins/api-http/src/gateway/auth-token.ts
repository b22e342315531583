import type { IncomingHttpHeaders } from 'node:http';

/**
 * The auth token a gateway request carries, as the services will take it. etcd's gateway hands
 * the Authorization header to gRPC as "authorization" metadata and Grpc-Metadata-Token as
 * "token", and etcd reads "token" first; etcd takes the header's value as the token itself, so
 * a "Bearer " prefix (what most HTTP clients send) fails there. Here both forms are the token.
 */
export function authTokenOf(headers: IncomingHttpHeaders): string | undefined {
  const metadataToken = headers['grpc-metadata-token'];
  const raw = typeof metadataToken === 'string' ? metadataToken : headers.authorization;
  if (raw === undefined) return undefined;
  const value = raw.trim();
  const bearer = /^Bearer\s+/i.exec(value);
  const token = bearer === null ? value : value.slice(bearer[0].length).trim();
  return token === '' ? undefined : token;
}
