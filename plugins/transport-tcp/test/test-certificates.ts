import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface MemberCertificates {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
  /** The same, as files in `dir` (for the plugin's options). */
  readonly files: { readonly certFile: string; readonly keyFile: string; readonly caFile: string };
}

export interface TestCertificates {
  /** Signed by the cluster CA, valid for 127.0.0.1. */
  readonly member: MemberCertificates;
  /** Valid for 127.0.0.1 but signed by an unrelated CA (it trusts only that CA too). */
  readonly stranger: MemberCertificates;
  /** Removes the temporary directory. */
  remove(): void;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function issue(dir: string, name: string): MemberCertificates {
  openssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '1',
    '-subj',
    `/CN=${name}-ca`,
    '-keyout',
    `${name}-ca.key`,
    '-out',
    `${name}-ca.pem`,
  );
  openssl(
    dir,
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
  );
  writeFileSync(join(dir, `${name}.ext`), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
  openssl(
    dir,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${name}-ca.pem`,
    '-CAkey',
    `${name}-ca.key`,
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.pem`,
  );
  const files = { certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key`), caFile: join(dir, `${name}-ca.pem`) };
  return { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile), ca: readFileSync(files.caFile), files };
}

/** A cluster CA with one member certificate, and a stranger from another CA, made with the openssl command. */
export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-tls-'));
  try {
    return { member: issue(dir, 'member'), stranger: issue(dir, 'stranger'), remove: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
