/**
 * TLS for one side of a member (clients or peers), from etcd's flags: `--cert-file`, `--key-file`,
 * `--trusted-ca-file`, `--client-cert-auth`, `--auto-tls`, `--cipher-suites`, `--tls-min-version`
 * (and their `--peer-` twins). A plugin that serves or dials that side applies them; paths are
 * absolute. Certificates are read again when they change on disk (etcd reloads per handshake).
 */
export interface TlsSettings {
  /** PEM certificate chain of this member ('' with `autoTls`: a self-signed one is made). */
  readonly certFile: string;
  /** PEM private key of `certFile`. */
  readonly keyFile: string;
  /** PEM CA bundle that client (peer) certificates must chain to; '' = none given. */
  readonly trustedCaFile: string;
  /** Require and verify a client certificate (mutual TLS). */
  readonly clientCertAuth: boolean;
  /** Make a self-signed certificate in the data dir when none is given (etcd's --auto-tls). */
  readonly autoTls: boolean;
  /** Go/IANA cipher suite names (etcd's --cipher-suites); empty = Node's defaults. */
  readonly cipherSuites: readonly string[];
  /** 'TLS1.2' or 'TLS1.3' (etcd's --tls-min-version; etcd's default TLS1.2). */
  readonly minVersion: 'TLS1.2' | 'TLS1.3';
}
