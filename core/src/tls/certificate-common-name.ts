import type { Socket } from 'node:net';
import { TLSSocket, type PeerCertificate } from 'node:tls';

/** A certificate's subject CN as Go reads it (Subject.CommonName: the last CN when there are several). */
export function commonNameOfCertificate(certificate: PeerCertificate | undefined): string | undefined {
  const cn: unknown = certificate?.subject?.CN;
  const name: unknown = Array.isArray(cn) ? cn[cn.length - 1] : cn;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/**
 * The CN of the client certificate on `socket`, if the TLS handshake verified it against the
 * trusted CA (`authorized`); undefined on a plain socket or an unverified certificate. etcd takes
 * it as the user when auth is on and the call carries no token.
 */
export function verifiedCommonName(socket: Socket): string | undefined {
  if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined;
  return commonNameOfCertificate(socket.getPeerCertificate());
}
