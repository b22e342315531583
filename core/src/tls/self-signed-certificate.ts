import 'reflect-metadata'; // @peculiar/x509's container (tsyringe) needs the Reflect API loaded first
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { randomBytes, webcrypto } from 'node:crypto';

/** Where an auto-TLS certificate and key are, as etcd names them under `<data-dir>/fixtures/<side>`. */
export interface CertificateFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** etcd's self-signed certificates are valid for a year. */
const VALIDITY_MS = 365 * 24 * 3600 * 1000;

/**
 * etcd's auto TLS (`transport.SelfCert`): a self-signed certificate for `hosts` (IP addresses go
 * in the IP SANs, names in the DNS SANs) with an ECDSA P-256 key, written to `dir` as cert.pem and
 * key.pem (0600); kept when both already exist, as etcd keeps them across restarts.
 */
export async function ensureSelfSignedCertificate(dir: string, hosts: readonly string[]): Promise<CertificateFiles> {
  const files = { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') };
  if (existsSync(files.certFile) && existsSync(files.keyFile)) return files;
  // Loaded only here: members without auto TLS never pay for the X.509 library.
  const x509 = await import('@peculiar/x509');
  // Node's WebCrypto is the standard one; the library's type is the DOM's.
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const names = [...new Set(hosts.filter((h) => h !== ''))].map((h) =>
    isIP(h) !== 0 ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h },
  );
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    // A positive 128-bit serial, as Go's crypto/x509 template in etcd.
    serialNumber: `01${randomBytes(16).toString('hex')}`,
    name: 'O=etcd',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + VALIDITY_MS),
    keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'],
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      // clientAuth too: a member shows the same certificate when it dials its peers.
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension(names),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(files.keyFile, keyPem, { mode: 0o600 });
  await chmod(files.keyFile, 0o600);
  await writeFile(files.certFile, certificate.toString('pem') + '\n');
  return files;
}
