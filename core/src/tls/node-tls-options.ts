import type { ConnectionOptions, SecureContextOptions, TlsOptions } from 'node:tls';
import type { TlsSettings } from '../ports/tls-settings.js';
import { openSslCipherList } from './cipher-suites.js';
import type { PemMaterial } from './pem-files.js';

const MIN_VERSION = { 'TLS1.2': 'TLSv1.2', 'TLS1.3': 'TLSv1.3' } as const;

/** cert/key/ca, the lowest protocol version and the cipher suites: what a secure context is made of. */
export function secureContextOptions(settings: TlsSettings, material: PemMaterial): SecureContextOptions {
  const ciphers = openSslCipherList(settings.cipherSuites);
  return {
    cert: material.cert,
    key: material.key,
    ...(material.ca === undefined ? {} : { ca: material.ca }),
    minVersion: MIN_VERSION[settings.minVersion],
    ...(ciphers === undefined ? {} : { ciphers }),
  };
}

/**
 * Whether a server side asks for client certificates: etcd requires and verifies one when
 * --client-cert-auth is set or a --trusted-ca-file is given (its `ServerConfig`).
 */
export function requiresClientCertificate(settings: TlsSettings): boolean {
  return settings.clientCertAuth || settings.trustedCaFile !== '';
}

/**
 * Options of a TLS server for one side. The certificate is requested by OpenSSL but checked by
 * the caller on `secureConnection` (`socket.authorized`), not by Node (`rejectUnauthorized:
 * false`): Node would drop a certificate of a foreign CA silently, and a refusal must be logged.
 */
export function serverTlsOptions(settings: TlsSettings, material: PemMaterial): TlsOptions {
  return { ...secureContextOptions(settings, material), requestCert: requiresClientCertificate(settings), rejectUnauthorized: false };
}

/**
 * Options for dialling with a side's settings (a member reaching its peers): it shows its own
 * certificate, and verifies the other side against the trusted CA (the system's CAs when none is
 * given) — except under auto TLS, where every member's certificate is self-signed and etcd skips
 * the check (InsecureSkipVerify).
 */
export function clientTlsOptions(settings: TlsSettings, material: PemMaterial): ConnectionOptions {
  return { ...secureContextOptions(settings, material), rejectUnauthorized: !settings.autoTls };
}
