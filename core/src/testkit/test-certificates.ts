import { execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';

/** A CA made for a test: its certificate signs what `TestCertificates.issue` makes. */
export interface TestAuthority {
  readonly name: string;
  /** The CA certificate (PEM): give it as --trusted-ca-file / etcdctl --cacert. */
  readonly caFile: string;
  readonly keyFile: string;
}

/** A certificate and key signed by `ca`, with that CA's file beside them. */
export interface TestCertificate {
  readonly commonName: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

export interface IssueOptions {
  /** Names and IPs for the subject alternative names (default 127.0.0.1 and localhost). */
  readonly hosts?: readonly string[];
  /** File name stem (default: the common name); issuing twice under one stem overwrites the files. */
  readonly fileName?: string;
}

/**
 * Certificates for tests, made with the `openssl` command in a temporary directory: CAs, and
 * certificates they sign for servers and clients (both usages, ECDSA P-256, valid one day).
 * `remove()` deletes the directory.
 */
export class TestCertificates {
  readonly dir: string;

  constructor(private readonly openssl = 'openssl') {
    this.dir = realpathSync(mkdtempSync(join(tmpdir(), 'cairn-certs-')));
  }

  /** A new self-signed CA named `name` (its subject is CN=`name`). */
  authority(name: string): TestAuthority {
    const caFile = join(this.dir, `${name}.pem`);
    const keyFile = join(this.dir, `${name}.key`);
    this.run([
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
      `/CN=${name}`,
      '-keyout',
      keyFile,
      '-out',
      caFile,
    ]);
    return { name, caFile, keyFile };
  }

  /** A certificate with subject CN=`commonName`, signed by `ca`. */
  issue(ca: TestAuthority, commonName: string, options: IssueOptions = {}): TestCertificate {
    const stem = join(this.dir, options.fileName ?? commonName);
    const hosts = options.hosts ?? ['127.0.0.1', 'localhost'];
    const san = hosts.map((h) => (isIP(h) !== 0 ? `IP:${h}` : `DNS:${h}`)).join(',');
    writeFileSync(`${stem}.ext`, `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n`);
    this.run([
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      `/CN=${commonName}`,
      '-keyout',
      `${stem}.key`,
      '-out',
      `${stem}.csr`,
    ]);
    this.run([
      'x509',
      '-req',
      '-in',
      `${stem}.csr`,
      '-CA',
      ca.caFile,
      '-CAkey',
      ca.keyFile,
      '-set_serial',
      `0x${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`,
      '-days',
      '1',
      '-extfile',
      `${stem}.ext`,
      '-out',
      `${stem}.pem`,
    ]);
    return { commonName, certFile: `${stem}.pem`, keyFile: `${stem}.key`, caFile: ca.caFile };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private run(args: readonly string[]): void {
    execFileSync(this.openssl, args, { cwd: this.dir, stdio: 'pipe' });
  }
}
