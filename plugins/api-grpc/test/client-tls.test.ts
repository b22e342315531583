import { copyFileSync, readFileSync } from 'node:fs';
import { connect as connectHttp2, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { connect as connectTcp, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import type { CairnServices, CallerCredentials, ClientHttpRoute, LogFields, Logger, TlsSettings } from '@cairn/core';
import { TestCertificates, type TestAuthority, type TestCertificate } from '@cairn/core/testkit';
import { repairingAuthority } from '../src/authority/authority-route.js';
import { ClientPortListener } from '../src/client-port-listener.js';
import { etcdPackageDefinition, GrpcFrontend } from '../src/index.js';
import { verifiedCommonName } from '@cairn/core';
import { GrpcHttp2Server } from '../src/server/grpc-http2-server.js';
import type { UnaryHandler } from '../src/server/server-calls.js';
import { TlsCredentials } from '@cairn/core';
import { unaryCall } from './authority/grpc-over-http2.js';
import { RawClient } from './harness.js';
import { MapServices } from './map-services.js';

const NO_TLS: TlsSettings = { certFile: '', keyFile: '', trustedCaFile: '', clientCertAuth: false, autoTls: false, cipherSuites: [], minVersion: 'TLS1.2' };

class RecordingLogger implements Logger {
  readonly warnings: { fields: LogFields; message: string }[] = [];
  debug(): void {}
  info(): void {}
  warn(fields: LogFields, message: string): void {
    this.warnings.push({ fields, message });
  }
  error(): void {}
  child(): Logger {
    return this;
  }
}

/** An HTTP/1.1 route that says which verified certificate CN its connection has. */
const whoRoute: ClientHttpRoute = {
  serve(request, response) {
    if (request.url !== '/who') return false;
    response.writeHead(200, { 'Content-Type': 'text/plain' });
    response.end(`cn=${verifiedCommonName(request.socket) ?? ''} alpn=${(request.socket as { alpnProtocol?: string | false }).alpnProtocol || ''}`);
    return true;
  },
};

interface Identity {
  readonly ca?: string;
  readonly cert?: TestCertificate;
}

function kvClient(port: number, who: Identity): RawClient {
  const loaded = grpc.loadPackageDefinition(etcdPackageDefinition()) as unknown as {
    etcdserverpb: Record<string, new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client>;
  };
  const credentials = grpc.credentials.createSsl(
    who.ca === undefined ? null : readFileSync(who.ca),
    who.cert === undefined ? null : readFileSync(who.cert.keyFile),
    who.cert === undefined ? null : readFileSync(who.cert.certFile),
  );
  return new RawClient(new loaded.etcdserverpb['KV']!(`127.0.0.1:${port}`, credentials));
}

function httpsGet(port: number, path: string, who: Identity): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const options: RequestOptions & Pick<ConnectionOptions, 'ALPNProtocols'> = {
      host: '127.0.0.1',
      port,
      path,
      agent: false,
      ALPNProtocols: ['h2', 'http/1.1'], // as curl offers them: the server's preference (HTTP/1.1) wins
      ...(who.ca === undefined ? {} : { ca: readFileSync(who.ca) }),
      ...(who.cert === undefined ? {} : { cert: readFileSync(who.cert.certFile), key: readFileSync(who.cert.keyFile) }),
    };
    const req = httpsRequest(options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Everything a plain TCP client gets back after sending `bytes`, until the server closes. */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connectTcp(port, '127.0.0.1', () => socket.write(bytes));
    let got = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (got += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(got));
  });
}

/** The subject CN of the certificate a TLS server shows (trusting `ca`). */
function serverCommonName(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({ host: '127.0.0.1', port, ca: readFileSync(ca) }, () => {
      resolve(String(socket.getPeerCertificate().subject.CN));
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

describe('gRPC frontend: TLS on the client port', function () {
  this.timeout(30_000);
  let certs: TestCertificates;
  let ca: TestAuthority;
  let server: TestCertificate;
  let alice: TestCertificate;
  let mallory: TestCertificate;
  const running: { stop(): Promise<void> }[] = [];

  before(() => {
    certs = new TestCertificates();
    ca = certs.authority('cluster-ca');
    server = certs.issue(ca, 'server');
    alice = certs.issue(ca, 'alice');
    mallory = certs.issue(certs.authority('foreign-ca'), 'mallory');
  });
  after(() => certs.remove());
  afterEach(async () => {
    for (const r of running.splice(0)) await r.stop();
  });

  async function start(settings: Partial<TlsSettings>, logger?: Logger, plainToo = false): Promise<{ port: number; plainPort: number; services: MapServices }> {
    const frontend = new GrpcFrontend(
      {
        listen: [{ host: '127.0.0.1', port: 0, tls: true }, ...(plainToo ? [{ host: '127.0.0.1', port: 0 }] : [])],
        maxRequestBytes: 1.5 * 1024 * 1024,
        tls: { settings: { ...NO_TLS, certFile: server.certFile, keyFile: server.keyFile, ...settings }, dataDir: certs.dir, hosts: ['127.0.0.1'] },
      },
      logger,
      [whoRoute],
    );
    const services = new MapServices();
    await frontend.start(services);
    running.push(frontend);
    return { port: frontend.boundAddresses[0]!.port, plainPort: frontend.boundAddresses[1]?.port ?? 0, services };
  }

  it('serves gRPC (ALPN h2) and the HTTP/1.1 gateway (ALPN http/1.1) on one https port', async () => {
    const { port } = await start({});
    const kv = kvClient(port, { ca: ca.caFile });
    try {
      await kv.call('Put', { key: Buffer.from('k'), value: Buffer.from('v') });
      const range = await kv.call<{ kvs: { value: Buffer }[] }>('Range', { key: Buffer.from('k') });
      expect(range.kvs[0]!.value.toString()).to.equal('v');
    } finally {
      kv.close();
    }
    expect(await httpsGet(port, '/who', { ca: ca.caFile })).to.deep.equal({ status: 200, body: 'cn= alpn=http/1.1' });
    expect((await httpsGet(port, '/nowhere', { ca: ca.caFile })).status).to.equal(404);
  });

  it('--client-cert-auth: a certificate of the trusted CA gets in (its CN visible to the gateway); none, or one of another CA, is refused and logged', async () => {
    const logger = new RecordingLogger();
    const { port } = await start({ trustedCaFile: ca.caFile, clientCertAuth: true }, logger);
    const good = kvClient(port, { ca: ca.caFile, cert: alice });
    const anonymous = kvClient(port, { ca: ca.caFile });
    const stranger = kvClient(port, { ca: ca.caFile, cert: mallory });
    try {
      await good.call('Put', { key: Buffer.from('k'), value: Buffer.from('v') });
      expect((await anonymous.failure('Range', { key: Buffer.from('k') })).code).to.equal(grpc.status.UNAVAILABLE);
      expect((await stranger.failure('Range', { key: Buffer.from('k') })).code).to.equal(grpc.status.UNAVAILABLE);
      expect((await good.call<{ count: string }>('Range', { key: Buffer.from('k') })).count).to.equal('1');
    } finally {
      for (const c of [good, anonymous, stranger]) c.close();
    }
    expect(await httpsGet(port, '/who', { ca: ca.caFile, cert: alice })).to.deep.equal({ status: 200, body: 'cn=alice alpn=http/1.1' });
    const refused = await httpsGet(port, '/who', { ca: ca.caFile, cert: mallory }).then(
      () => 'served',
      (err: NodeJS.ErrnoException) => err.code ?? err.message,
    );
    expect(refused).to.not.equal('served');
    const reasons = logger.warnings.filter((w) => w.message === 'refused a client connection at the TLS handshake').map((w) => String(w.fields['reason']));
    expect(reasons.length).to.be.greaterThan(0);
    expect(reasons.some((r) => /client certificate refused/.test(r))).to.equal(true);
  });

  it("refuses plain text on a TLS port (Go's 400 for HTTP) and TLS on a plain port, with a warning, and keeps serving", async () => {
    const logger = new RecordingLogger();
    const { port, plainPort } = await start({}, logger, true);
    expect(await rawExchange(port, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n')).to.equal(
      'HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n',
    );
    // A plain-text gRPC client (the HTTP/2 preface) is closed.
    expect(await rawExchange(port, 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')).to.equal('');
    const plainGrpc = new RawClient(
      new (
        grpc.loadPackageDefinition(etcdPackageDefinition()) as unknown as {
          etcdserverpb: Record<string, new (a: string, c: grpc.ChannelCredentials) => grpc.Client>;
        }
      ).etcdserverpb['KV']!(`127.0.0.1:${port}`, grpc.credentials.createInsecure()),
    );
    const tlsOnPlain = kvClient(plainPort, { ca: ca.caFile });
    try {
      expect((await plainGrpc.failure('Range', { key: Buffer.from('k') })).code).to.equal(grpc.status.UNAVAILABLE);
      expect((await tlsOnPlain.failure('Range', { key: Buffer.from('k') })).code).to.equal(grpc.status.UNAVAILABLE);
    } finally {
      plainGrpc.close();
      tlsOnPlain.close();
    }
    const messages = new Set(logger.warnings.map((w) => w.message));
    expect(messages).to.include('refused a plain-text connection on a TLS client port');
    expect(messages).to.include('refused a TLS connection on a plain-text client port');
    // Still serving on both ports.
    expect(await httpsGet(port, '/who', { ca: ca.caFile })).to.deep.equal({ status: 200, body: 'cn= alpn=http/1.1' });
    const kv = kvClient(port, { ca: ca.caFile });
    try {
      await kv.call('Put', { key: Buffer.from('after'), value: Buffer.from('1') });
    } finally {
      kv.close();
    }
  });

  it('a certificate replaced on disk is shown to the next connections, without a restart', async () => {
    const next = certs.issue(ca, 'server-2', { hosts: ['127.0.0.1'] });
    const live = { certFile: join(certs.dir, 'live.pem'), keyFile: join(certs.dir, 'live.key') };
    copyFileSync(server.certFile, live.certFile);
    copyFileSync(server.keyFile, live.keyFile);
    const { port } = await start(live);
    expect(await serverCommonName(port, ca.caFile)).to.equal('server');
    copyFileSync(next.keyFile, live.keyFile);
    copyFileSync(next.certFile, live.certFile);
    expect(await serverCommonName(port, ca.caFile)).to.equal('server-2');
    const kv = kvClient(port, { ca: ca.caFile });
    try {
      await kv.call('Put', { key: Buffer.from('k'), value: Buffer.from('v') });
    } finally {
      kv.close();
    }
  });

  it("hands the verified CN to services.authorize through the frontend's handlers, directly and through the :authority repair", async () => {
    const seen: (string | undefined)[] = [];
    class AuthorizingServices extends MapServices {
      readonly authorize = (credentials: CallerCredentials): Promise<CairnServices> => {
        seen.push(credentials.commonName);
        return Promise.resolve(this);
      };
    }
    const frontend = new GrpcFrontend(
      {
        listen: [{ host: '127.0.0.1', port: 0, tls: true }],
        maxRequestBytes: 1.5 * 1024 * 1024,
        tls: {
          settings: { ...NO_TLS, certFile: server.certFile, keyFile: server.keyFile, trustedCaFile: ca.caFile, clientCertAuth: true },
          dataDir: certs.dir,
          hosts: ['127.0.0.1'],
        },
      },
      undefined,
      [],
    );
    await frontend.start(new AuthorizingServices());
    running.push(frontend);
    const port = frontend.boundAddresses[0]!.port;
    const kv = kvClient(port, { ca: ca.caFile, cert: alice });
    const session = connectHttp2(`https://127.0.0.1:${port}`, {
      ca: readFileSync(ca.caFile),
      cert: readFileSync(alice.certFile),
      key: readFileSync(alice.keyFile),
    });
    try {
      await kv.call('Range', { key: Buffer.from('k') });
      expect(seen).to.deep.equal(['alice']);
      // etcdctl 3.4's URL authority: nghttp2 would reset it, so the connection goes through the repair.
      await unaryCall(session, `https://127.0.0.1:${port}`, 'KV', 'Range', { key: Buffer.from('k') });
      expect(seen).to.deep.equal(['alice', 'alice']);
    } finally {
      kv.close();
      session.destroy();
    }
  });

  describe('the verified CN of a gRPC call', () => {
    /** A one-method service answering the caller's verified CN. */
    const whoService: grpc.ServiceDefinition = {
      Name: {
        path: '/test.Who/Name',
        requestStream: false,
        responseStream: false,
        requestSerialize: (b: Buffer) => b,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (s: { name: string }) => Buffer.from(s.name),
        responseDeserialize: (b: Buffer) => ({ name: b.toString() }),
        originalName: 'name',
      },
    };

    function whoAmI(session: ClientHttp2Session, authority: string): Promise<string> {
      return new Promise((resolve, reject) => {
        const stream = session.request({
          ':method': 'POST',
          ':path': '/test.Who/Name',
          ':authority': authority,
          'content-type': 'application/grpc',
          te: 'trailers',
        });
        const chunks: Buffer[] = [];
        let status: string | undefined;
        const statusOf = (h: IncomingHttpHeaders): void => void (typeof h['grpc-status'] === 'string' && (status = h['grpc-status']));
        stream.on('response', statusOf);
        stream.on('trailers', statusOf);
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('error', () => undefined);
        stream.on('close', () => {
          if (status !== '0') return reject(new Error(`grpc-status ${status ?? 'none'}, rst ${stream.rstCode}`));
          const body = Buffer.concat(chunks);
          resolve(body.subarray(5, 5 + body.readUInt32BE(1)).toString());
        });
        stream.end(Buffer.alloc(5));
      });
    }

    it('is the client certificate CN, on the TLS socket directly and through the :authority repair; absent on a plain port', async () => {
      const grpcServer = new GrpcHttp2Server({ maxReceiveBytes: 4096, keepaliveIntervalMs: 0, keepaliveTimeoutMs: 1000 });
      const name: UnaryHandler = (call, callback) => callback(null, { name: `cn=${call.commonName ?? ''}` });
      grpcServer.addService(whoService, { Name: name });
      const routes = { http2: repairingAuthority((c) => grpcServer.injectConnection(c)), http1: (s: { destroy(): void }) => s.destroy() };
      // As the frontend does: a repaired connection gets the CN of the TLS socket it carries.
      const secureRoutes = {
        http2: (socket: Socket) => repairingAuthority((c) => grpcServer.injectConnection(c, verifiedCommonName(socket)))(socket),
        http1: routes.http1,
      };
      const credentials = TlsCredentials.fromFiles({
        ...NO_TLS,
        certFile: server.certFile,
        keyFile: server.keyFile,
        trustedCaFile: ca.caFile,
        clientCertAuth: true,
      });
      const secure = new ClientPortListener(secureRoutes, { tls: credentials });
      const plain = new ClientPortListener(routes);
      const securePort = (await secure.listen('127.0.0.1', 0)).port;
      const plainPort = (await plain.listen('127.0.0.1', 0)).port;
      const tlsSession = connectHttp2(`https://127.0.0.1:${securePort}`, {
        ca: readFileSync(ca.caFile),
        cert: readFileSync(alice.certFile),
        key: readFileSync(alice.keyFile),
      });
      const repairedSession = connectHttp2(`https://127.0.0.1:${securePort}`, {
        ca: readFileSync(ca.caFile),
        cert: readFileSync(alice.certFile),
        key: readFileSync(alice.keyFile),
      });
      const plainSession = connectHttp2(`http://127.0.0.1:${plainPort}`);
      try {
        expect(await whoAmI(tlsSession, `127.0.0.1:${securePort}`)).to.equal('cn=alice');
        // etcdctl 3.4's Status authority: the connection goes through the rewriting stream.
        expect(await whoAmI(repairedSession, `https://127.0.0.1:${securePort}`)).to.equal('cn=alice');
        expect(await whoAmI(repairedSession, `https://127.0.0.1:${securePort}`)).to.equal('cn=alice');
        expect(await whoAmI(plainSession, `127.0.0.1:${plainPort}`)).to.equal('cn=');
      } finally {
        for (const s of [tlsSession, repairedSession, plainSession]) s.destroy();
        await grpcServer.close(0);
        await secure.close();
        await plain.close();
      }
    });
  });
});
