import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { TestCertificates, type TestAuthority, type TestCertificate } from '@cairn/core/testkit';
import { ROOT_AND_ALICE } from './auth-servers.js';
import { curl } from './curl.js';
import { etcdctl } from './etcdctl.js';
import { freeMemberPorts, skipWithoutEtcdctl, startCairn, type ServerProcess } from './processes.js';

/** etcd's client URL flags, https:// this time. */
function httpsClientFlags(port: number): string[] {
  const url = `https://127.0.0.1:${port}`;
  return ['--listen-client-urls', url, '--advertise-client-urls', url];
}

describe('TLS on the client port: the real etcdctl 3.4 and curl', function () {
  this.timeout(120_000);
  let dir: string;
  let certs: TestCertificates;
  let ca: TestAuthority;
  let client: TestCertificate;
  let stranger: TestCertificate;

  before(async function () {
    skipWithoutEtcdctl(this);
    dir = await mkdtemp(join(tmpdir(), 'cairn-tls-etcdctl-'));
    certs = new TestCertificates();
    ca = certs.authority('etcd-ca');
    client = certs.issue(ca, 'root');
    stranger = certs.issue(certs.authority('other-ca'), 'root', { fileName: 'stranger' });
  });
  after(async () => {
    certs?.remove();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  describe('--client-cert-auth --trusted-ca-file', () => {
    let server: ServerProcess;
    let endpoint: string;

    before(async () => {
      const ports = await freeMemberPorts();
      const serverCert = certs.issue(ca, 'server');
      server = await startCairn(
        join(dir, 'mutual'),
        [
          ...httpsClientFlags(ports.client),
          '--cert-file',
          serverCert.certFile,
          '--key-file',
          serverCert.keyFile,
          '--trusted-ca-file',
          ca.caFile,
          '--client-cert-auth',
        ],
        ports,
      );
      endpoint = `https://127.0.0.1:${ports.client}`;
    });
    after(async () => {
      await server?.stop();
    });

    it('etcdctl with --cacert --cert --key puts, gets and reads the endpoint status', async () => {
      const tls = ['--cacert', ca.caFile, '--cert', client.certFile, '--key', client.keyFile];
      const put = await etcdctl(endpoint, [...tls, 'put', 'greeting', 'hello']);
      expect(put.stderr).to.equal('');
      expect(put.stdout).to.equal('OK\n');
      expect((await etcdctl(endpoint, [...tls, 'get', 'greeting'])).stdout).to.equal('greeting\nhello\n');
      // Status goes through the :authority repair (etcdctl 3.4 sends the URL as authority).
      const status = await etcdctl(endpoint, [...tls, 'endpoint', 'status', '-w', 'json']);
      expect(status.code, status.stderr).to.equal(0);
      expect(status.stdout).to.include(`"Endpoint":"${endpoint}"`);
      const health = await etcdctl(endpoint, [...tls, 'endpoint', 'health']);
      expect(health.code, health.stderr).to.equal(0);
    });

    it('etcdctl without a client certificate, or with one of another CA, is refused; the member stays up', async () => {
      // A refused handshake is retried by etcdctl until its command timeout: keep that short.
      const none = await etcdctl(endpoint, ['--command-timeout=3s', '--cacert', ca.caFile, 'get', 'greeting']);
      expect(none.code).to.not.equal(0);
      expect(none.stdout).to.equal('');
      const foreign = await etcdctl(endpoint, [
        '--command-timeout=3s',
        '--cacert',
        ca.caFile,
        '--cert',
        stranger.certFile,
        '--key',
        stranger.keyFile,
        'get',
        'greeting',
      ]);
      expect(foreign.code).to.not.equal(0);
      expect(foreign.stdout).to.equal('');
      // Plain text on the TLS port.
      const plain = await etcdctl(endpoint.replace('https://', 'http://'), ['--command-timeout=3s', 'get', 'greeting']);
      expect(plain.code).to.not.equal(0);
      expect(server.log()).to.match(/refused a client connection at the TLS handshake/);
      const after = await etcdctl(endpoint, ['--cacert', ca.caFile, '--cert', client.certFile, '--key', client.keyFile, 'get', 'greeting']);
      expect(after.stdout).to.equal('greeting\nhello\n');
    });

    it("curl --cacert --cert --key reaches the JSON gateway on the same port; plain HTTP gets Go's answer", async () => {
      const key = Buffer.from('greeting').toString('base64');
      const answer = await curl(`${endpoint}/v3/kv/range`, [
        '--cacert',
        ca.caFile,
        '--cert',
        client.certFile,
        '--key',
        client.keyFile,
        '-H',
        'Content-Type: application/json',
        '-X',
        'POST',
        '-d',
        JSON.stringify({ key }),
      ]);
      expect(answer.status).to.equal(200);
      const body = JSON.parse(answer.body) as { kvs: { value: string }[] };
      expect(Buffer.from(body.kvs[0]!.value, 'base64').toString()).to.equal('hello');
      await curl(`${endpoint}/v3/kv/range`, ['--cacert', ca.caFile, '-X', 'POST', '-d', JSON.stringify({ key })]).then(
        () => expect.fail('served without a client certificate'),
        (err: Error) => expect(err.message).to.match(/curl .* failed/),
      );
      const plain = await curl(`${endpoint.replace('https://', 'http://')}/v3/kv/range`, ['-0', '-X', 'POST', '-d', '{}']).catch((err: Error) => err);
      // curl shows Go's HTTP/1.0 answer to an HTTP request on an HTTPS server.
      expect(plain).to.not.be.instanceOf(Error);
      expect((plain as { status: number; body: string }).status).to.equal(400);
      expect((plain as { body: string }).body).to.equal('Client sent an HTTP request to an HTTPS server.\n');
    });

    it('with auth enabled, the verified certificate’s Common Name is the user: no --user needed', async () => {
      const asRoot = ['--cacert', ca.caFile, '--cert', client.certFile, '--key', client.keyFile];
      const alice = certs.issue(ca, 'alice');
      const asAlice = ['--cacert', ca.caFile, '--cert', alice.certFile, '--key', alice.keyFile];
      for (const args of ROOT_AND_ALICE) {
        const r = await etcdctl(endpoint, [...asRoot, ...args]);
        expect(r.code, `etcdctl ${args.join(' ')}: ${r.stderr}`).to.equal(0);
      }
      try {
        expect((await etcdctl(endpoint, [...asAlice, 'put', 'app/x', '1'])).stdout).to.equal('OK\n');
        expect((await etcdctl(endpoint, [...asAlice, 'get', 'greeting'])).stderr).to.contain('Error: etcdserver: permission denied');
        expect((await etcdctl(endpoint, [...asAlice, 'user', 'list'])).stderr).to.contain('Error: etcdserver: permission denied');
        expect((await etcdctl(endpoint, [...asRoot, 'get', 'greeting'])).stdout).to.equal('greeting\nhello\n');
        expect((await etcdctl(endpoint, [...asRoot, 'user', 'list'])).stdout).to.equal('alice\nroot\n');
        // A token outranks the certificate (etcd's order): alice's certificate, root's password.
        expect((await etcdctl(endpoint, [...asAlice, '--user', 'root:root-pw', 'get', 'greeting'])).stdout).to.equal('greeting\nhello\n');
      } finally {
        await etcdctl(endpoint, [...asRoot, 'auth', 'disable']);
      }
    });
  });

  describe('--auto-tls', () => {
    let server: ServerProcess;
    let endpoint: string;

    before(async () => {
      const ports = await freeMemberPorts();
      server = await startCairn(join(dir, 'auto'), [...httpsClientFlags(ports.client), '--auto-tls'], ports);
      endpoint = `https://127.0.0.1:${ports.client}`;
    });
    after(async () => {
      await server?.stop();
    });

    it('serves a self-signed certificate that etcdctl --insecure-skip-tls-verify accepts', async () => {
      const put = await etcdctl(endpoint, ['--insecure-transport=false', '--insecure-skip-tls-verify', 'put', 'auto', 'tls']);
      expect(put.stderr).to.equal('');
      expect(put.stdout).to.equal('OK\n');
      expect((await etcdctl(endpoint, ['--insecure-transport=false', '--insecure-skip-tls-verify', 'get', 'auto'])).stdout).to.equal('auto\ntls\n');
      // Verified against the system CAs it is refused: it is self-signed.
      const verified = await etcdctl(endpoint, ['--command-timeout=3s', '--insecure-transport=false', 'get', 'auto']);
      expect(verified.code).to.not.equal(0);
    });
  });
});
