import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect, createServer, type Server, type TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TlsSettings } from '../../src/ports/tls-settings.js';
import { TestCertificates, type TestCertificate } from '../../src/testkit/test-certificates.js';
import { TlsCredentials } from '../../src/tls/tls-credentials.js';

const base: TlsSettings = { certFile: '', keyFile: '', trustedCaFile: '', clientCertAuth: false, autoTls: false, cipherSuites: [], minVersion: 'TLS1.2' };

function settingsOf(cert: TestCertificate, extra: Partial<TlsSettings> = {}): TlsSettings {
  return { ...base, certFile: cert.certFile, keyFile: cert.keyFile, ...extra };
}

/** A TLS server with `credentials`, refreshed per connection as the client port does. */
async function serve(credentials: TlsCredentials): Promise<{ server: Server; port: number }> {
  const server = createServer(credentials.serverOptions(), (socket) => socket.end('hello'));
  server.prependListener('connection', () => {
    if (credentials.refresh()) server.setSecureContext(credentials.contextOptions());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

/** The subject CN of the certificate the server at `port` shows, trusting `caFile`. */
function peerCommonName(port: number, caFile: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = connect({ host: '127.0.0.1', port, ca: readFileSync(caFile) }, () => {
      const cn = socket.getPeerCertificate().subject.CN;
      socket.destroy();
      resolve(String(cn));
    });
    socket.on('error', reject);
  });
}

describe('TlsCredentials', function () {
  this.timeout(30_000);
  let certs: TestCertificates;
  let dataDir: string;

  before(() => {
    certs = new TestCertificates();
  });
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'cairn-tls-data-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));
  after(() => certs.remove());

  it('refuses an unreadable file, naming the flag, and a key of another certificate', () => {
    const ca = certs.authority('files-ca');
    const one = certs.issue(ca, 'one');
    const two = certs.issue(ca, 'two');
    expect(() => TlsCredentials.fromFiles({ ...settingsOf(one), certFile: join(dataDir, 'absent.pem') })).to.throw(
      /cert-file: cannot read .*absent\.pem: ENOENT/,
    );
    expect(() => TlsCredentials.fromFiles({ ...settingsOf(one), keyFile: two.keyFile })).to.throw(/^TLS: .*key values mismatch/);
    expect(() => TlsCredentials.fromFiles(settingsOf(one, { cipherSuites: ['TLS_NOPE'] }))).to.throw(/unknown cipher suite "TLS_NOPE"/);
  });

  it('server options follow etcd: a trusted CA alone already asks for client certificates', () => {
    const ca = certs.authority('opts-ca');
    const server = certs.issue(ca, 'server');
    expect(TlsCredentials.fromFiles(settingsOf(server)).serverOptions()).to.include({ requestCert: false, minVersion: 'TLSv1.2' });
    const mutual = TlsCredentials.fromFiles(
      settingsOf(server, { trustedCaFile: ca.caFile, minVersion: 'TLS1.3', cipherSuites: ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'] }),
    );
    expect(mutual.serverOptions()).to.include({
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.3',
      ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256',
    });
    expect(mutual.clientOptions()).to.include({ rejectUnauthorized: true });
  });

  it('a certificate replaced on disk is served to the next connection, without a restart', async () => {
    const ca = certs.authority('rotate-ca');
    const first = certs.issue(ca, 'first');
    const second = certs.issue(ca, 'second');
    const live = { certFile: join(dataDir, 'live.pem'), keyFile: join(dataDir, 'live.key') };
    copyFileSync(first.certFile, live.certFile);
    copyFileSync(first.keyFile, live.keyFile);
    const credentials = TlsCredentials.fromFiles({ ...base, ...live });
    const { server, port } = await serve(credentials);
    try {
      expect(await peerCommonName(port, ca.caFile)).to.equal('first');
      // A half-done rotation (new key, old certificate) keeps the old pair in use.
      copyFileSync(second.keyFile, live.keyFile);
      expect(await peerCommonName(port, ca.caFile)).to.equal('first');
      copyFileSync(second.certFile, live.certFile);
      expect(await peerCommonName(port, ca.caFile)).to.equal('second');
      expect(credentials.refresh()).to.equal(false); // nothing changed since
    } finally {
      server.close();
    }
  });

  it('auto TLS makes a self-signed certificate in <data-dir>/fixtures/<side>, valid for 127.0.0.1 and localhost, kept across restarts', async () => {
    const settings = { ...base, autoTls: true };
    const credentials = await TlsCredentials.open(settings, { dataDir, side: 'client', hosts: ['127.0.0.1', 'localhost'] });
    const certFile = join(dataDir, 'fixtures', 'client', 'cert.pem');
    const keyFile = join(dataDir, 'fixtures', 'client', 'key.pem');
    expect(statSync(keyFile).mode & 0o777).to.equal(0o600);
    const pem = readFileSync(certFile);
    const certificate = new X509Certificate(pem);
    expect(certificate.checkIP('127.0.0.1')).to.equal('127.0.0.1');
    expect(certificate.checkHost('localhost')).to.equal('localhost');
    expect(certificate.verify(certificate.publicKey)).to.equal(true); // self-signed
    expect(certificate.subject).to.equal('O=etcd');
    // A client that trusts it verifies the server for both names.
    const { server, port } = await serve(credentials);
    try {
      for (const servername of ['localhost', undefined]) {
        const cn = await new Promise<string>((resolve, reject) => {
          const socket = connect({ host: '127.0.0.1', port, ca: pem, ...(servername === undefined ? {} : { servername }) }, () => {
            resolve(socket.authorized ? 'verified' : String(socket.authorizationError));
            socket.destroy();
          });
          socket.on('error', reject);
        });
        expect(cn).to.equal('verified');
      }
    } finally {
      server.close();
    }
    const again = await TlsCredentials.open(settings, { dataDir, side: 'client', hosts: ['127.0.0.1'] });
    expect(readFileSync(certFile).equals(pem)).to.equal(true);
    expect(again.serverOptions().cert).to.deep.equal(pem);
  });
});
