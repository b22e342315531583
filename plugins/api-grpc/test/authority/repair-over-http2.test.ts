import { connect as http2Connect, createServer as createHttp2Server, type ClientHttp2Session, type Http2Server } from 'node:http2';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { Server, ServerCredentials, status, type ConnectionInjector, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { expect } from 'chai';
import { nghttp2RejectsAuthority } from '../../src/authority/authority-rule.js';
import { repairingAuthority, type AuthorityRepairOptions } from '../../src/authority/authority-route.js';
import type { SniffVerdict } from '../../src/authority/connection-sniffer.js';
import { FrameFlag, FrameType, readFrameHeader, type FrameHeader } from '../../src/authority/http2-frame.js';
import { ClientPortListener } from '../../src/client-port-listener.js';
import { etcdServiceDefinition } from '../../src/index.js';
import { startHarness, type Harness } from '../harness.js';
import { CallFailure, unaryCall } from './grpc-over-http2.js';
import { framesIn, headersFrame, preface, settingsAck, settingsFrame } from './h2-bytes.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function openSession(port: number): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(`http://127.0.0.1:${port}`);
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

function closeSession(session: ClientHttp2Session): Promise<void> {
  return new Promise((resolve) => (session.closed ? resolve() : session.close(() => resolve())));
}

/** A grpc-js server with Maintenance.Status and KV.Range behind a client port with the authority repair, telling each verdict. */
async function startRepairingServer(options: AuthorityRepairOptions = {}): Promise<{ port: number; verdicts: SniffVerdict[]; close(): Promise<void> }> {
  const server = new Server();
  server.addService(etcdServiceDefinition('Maintenance'), {
    Status: (_call: ServerUnaryCall<object, object>, done: sendUnaryData<object>) => done(null, { version: '3.4.0' }),
  });
  server.addService(etcdServiceDefinition('KV'), {
    Range: (call: ServerUnaryCall<{ key: Buffer }, object>, done: sendUnaryData<object>) =>
      call.request.key.length === 0
        ? done({ code: status.INVALID_ARGUMENT, details: 'empty key' })
        : done(null, { kvs: [{ key: call.request.key, value: Buffer.from('v') }], count: '1' }),
  });
  const injector: ConnectionInjector = server.createConnectionInjector(ServerCredentials.createInsecure());
  const verdicts: SniffVerdict[] = [];
  const listener = new ClientPortListener({
    http2: repairingAuthority((connection) => injector.injectConnection(connection), { ...options, onVerdict: (v) => verdicts.push(v) }),
    http1: (socket) => socket.destroy(),
  });
  const { port } = await listener.listen('127.0.0.1', 0);
  return {
    port,
    verdicts,
    async close() {
      // The server's sessions first: the listener's close waits for every connection it accepted to end.
      server.forceShutdown();
      injector.destroy();
      await listener.close();
    },
  };
}

/** Frames a raw socket receives until `until` says stop (or 3 s pass). */
function readFrames(
  socket: Socket,
  until: (frames: { header: FrameHeader; payload: Buffer }[]) => boolean,
): Promise<{ header: FrameHeader; payload: Buffer }[]> {
  return new Promise((resolve, reject) => {
    let bytes = Buffer.alloc(0);
    const timer = setTimeout(() => reject(new Error(`no end within 3 s; got ${bytes.length} bytes`)), 3000);
    const onData = (chunk: Buffer): void => {
      bytes = Buffer.concat([bytes, chunk]);
      let whole = 0;
      while (whole + 9 <= bytes.length && whole + 9 + readFrameHeader(bytes, whole).length <= bytes.length) whole += 9 + readFrameHeader(bytes, whole).length;
      const frames = framesIn(bytes.subarray(0, whole));
      if (until(frames)) {
        clearTimeout(timer);
        socket.off('data', onData);
        resolve(frames);
      }
    };
    socket.on('data', onData);
  });
}

describe('authority repair: Node HTTP/2 clients against the gRPC frontend', function () {
  this.timeout(60_000);

  describe('through the real frontend', () => {
    let harness: Harness;
    beforeEach(async () => {
      harness = await startHarness();
      await harness.client('KV').call('Put', { key: Buffer.from('k'), value: Buffer.from('value-of-k') });
    });
    afterEach(async () => harness.close());

    it('completes hundreds of Status and Range calls with `#initially=[...]` and `http://` authorities on one connection, beside a good connection', async () => {
      const badAuthorities = [`#initially=[http://127.0.0.1:${harness.port}]`, `http://127.0.0.1:${harness.port}`];
      const repaired = await openSession(harness.port);
      const good = await openSession(harness.port);
      let repairedConnects = 0;
      repaired.on('connect', () => (repairedConnects += 1));
      const calls = (session: ClientHttp2Session, authorityOf: (i: number) => string): Promise<string>[] =>
        Array.from({ length: 300 }, async (_, i) => {
          if (i % 2 === 0) return (await unaryCall<{ version: string }>(session, authorityOf(i), 'Maintenance', 'Status', {})).version;
          const range = await unaryCall<{ kvs: { value: Buffer }[] }>(session, authorityOf(i), 'KV', 'Range', { key: Buffer.from('k') });
          return range.kvs[0]!.value.toString();
        });
      const results = await Promise.all([...calls(repaired, (i) => badAuthorities[Math.floor(i / 2) % 2]!), ...calls(good, () => `127.0.0.1:${harness.port}`)]);
      expect(results).to.have.length(600);
      expect(results.filter((r) => r === '3.4.0')).to.have.length(300);
      expect(results.filter((r) => r === 'value-of-k')).to.have.length(300);
      expect(repaired.closed || repaired.destroyed, 'the repaired connection is still open').to.equal(false);
      expect(repairedConnects, 'no second connection was made').to.equal(0);
      await closeSession(repaired);
      await closeSession(good);
    });

    it('carries large requests and responses through the repairing stream, flow control and all', async () => {
      const session = await openSession(harness.port);
      const authority = `#initially=[http://127.0.0.1:${harness.port}]`;
      const value = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < value.length; i++) value[i] = (i * 7) % 256;
      await Promise.all(Array.from({ length: 4 }, (_, i) => unaryCall(session, authority, 'KV', 'Put', { key: Buffer.from(`big${i}`), value })));
      const ranges = await Promise.all(
        Array.from({ length: 4 }, (_, i) => unaryCall<{ kvs: { value: Buffer }[] }>(session, authority, 'KV', 'Range', { key: Buffer.from(`big${i}`) })),
      );
      for (const range of ranges) expect(range.kvs[0]!.value.equals(value)).to.equal(true);
      await closeSession(session);
    });

    it('sends the client, before the server’s own SETTINGS, a SETTINGS frame identical to them', async () => {
      const socket = connect(harness.port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      socket.write(Buffer.concat([preface(), settingsFrame()]));
      // The frontend waits for a request and the ACK of its early SETTINGS before the server takes the connection.
      const early = await readFrames(socket, (f) => f.length >= 1);
      socket.write(
        Buffer.concat([
          settingsAck(),
          headersFrame(
            1,
            [
              { name: ':method', value: 'GET' },
              { name: ':scheme', value: 'http' },
              { name: ':path', value: '/' },
              { name: ':authority', value: `127.0.0.1:${harness.port}` },
            ],
            { endStream: true },
          ),
        ]),
      );
      const later = await readFrames(socket, (f) => f.some((x) => x.header.type === FrameType.HEADERS || x.header.type === FrameType.RST_STREAM));
      socket.destroy();
      const settings = [...early, ...later].filter((f) => f.header.type === FrameType.SETTINGS && (f.header.flags & FrameFlag.ACK) === 0);
      expect(settings, 'the early SETTINGS and the server’s').to.have.length(2);
      expect(settings[0]).to.deep.equal(settings[1]);
      expect(
        later.filter((f) => f.header.type === FrameType.GOAWAY),
        'the server took the connection without complaint',
      ).to.deep.equal([]);
    });
  });

  describe('the route each connection takes', () => {
    let server: Awaited<ReturnType<typeof startRepairingServer>>;
    afterEach(async () => server?.close());

    it('sends a good connection straight to the server and a bad one through the repair', async () => {
      server = await startRepairingServer();
      const good = await openSession(server.port);
      await unaryCall(good, `127.0.0.1:${server.port}`, 'Maintenance', 'Status', {});
      const bad = await openSession(server.port);
      await unaryCall(bad, `http://127.0.0.1:${server.port}`, 'Maintenance', 'Status', {});
      expect(server.verdicts.map((v) => [v.route, v.reason])).to.deep.equal([
        ['direct', 'authority accepted'],
        ['repair', 'authority rejected'],
      ]);
      // Errors and later calls still flow on both.
      for (const session of [good, bad]) {
        const failure = await unaryCall(session, `127.0.0.1:${server.port}`, 'KV', 'Range', { key: Buffer.alloc(0) }).catch((e: CallFailure) => e);
        expect(failure).to.be.instanceOf(CallFailure);
        expect((failure as CallFailure).message).to.contain(`grpc-status ${status.INVALID_ARGUMENT}`);
      }
      await Promise.all([closeSession(good), closeSession(bad)]);
    });

    it('on a connection that went straight through, a later request with a rejected authority is reset as before; the connection stays usable', async () => {
      // etcd's clients never do this (they fix the authority when they dial a connection; see the etcdctl test); this pins what happens if some client does.
      server = await startRepairingServer();
      const session = await openSession(server.port);
      await unaryCall(session, `127.0.0.1:${server.port}`, 'Maintenance', 'Status', {});
      const failure = await unaryCall(session, `http://127.0.0.1:${server.port}`, 'Maintenance', 'Status', {}).catch((e: CallFailure) => e);
      expect(failure).to.be.instanceOf(CallFailure);
      expect((failure as CallFailure).rstCode).to.equal(1);
      expect((await unaryCall<{ version: string }>(session, `127.0.0.1:${server.port}`, 'Maintenance', 'Status', {})).version).to.equal('3.4.0');
      expect(server.verdicts.map((v) => v.route)).to.deep.equal(['direct']);
      await closeSession(session);
    });

    it('sends a connection that stays silent past the sniff timeout through the repair, which serves any authority', async () => {
      server = await startRepairingServer({ sniffTimeoutMs: 100 });
      const session = await openSession(server.port);
      await sleep(300);
      expect(server.verdicts.map((v) => [v.route, v.reason])).to.deep.equal([['repair', 'timeout']]);
      for (const authority of [`127.0.0.1:${server.port}`, `#initially=[http://127.0.0.1:${server.port}]`, `http://127.0.0.1:${server.port}`]) {
        expect((await unaryCall<{ version: string }>(session, authority, 'Maintenance', 'Status', {})).version).to.equal('3.4.0');
      }
      await closeSession(session);
    });

    it('closes the client’s side of a repaired connection when the server ends its session', async () => {
      server = await startRepairingServer();
      const session = await openSession(server.port);
      await unaryCall(session, `#initially=[http://127.0.0.1:${server.port}]`, 'Maintenance', 'Status', {});
      const closed = new Promise<void>((r) => session.once('close', () => r()));
      session.on('error', () => {});
      await server.close();
      await closed;
      expect(server.verdicts.map((v) => v.route)).to.deep.equal(['repair']);
    });

    it('closes a connection still being sniffed when the frontend has stopped, instead of handing it over', async () => {
      let live = true;
      server = await startRepairingServer({ sniffTimeoutMs: 200, live: () => live });
      const socket = connect(server.port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      socket.write(Buffer.concat([preface(), settingsFrame()]));
      const closed = new Promise<void>((r) => socket.once('close', () => r()));
      socket.on('error', () => {});
      socket.resume(); // read, so the server's FIN is seen
      live = false;
      await closed;
      expect(server.verdicts.map((v) => v.reason)).to.deep.equal(['timeout']);
    });
  });

  describe('nghttp2’s rule', () => {
    let plain: Http2Server;
    afterEach(() => plain?.close());

    it('matches Node’s HTTP/2 server for every octet, in `:authority` and in `host`', async () => {
      plain = createHttp2Server((_req, res) => res.end());
      await new Promise<void>((r) => plain.listen(0, '127.0.0.1', () => r()));
      const port = (plain.address() as AddressInfo).port;
      const socket = connect(port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      socket.write(Buffer.concat([preface(), settingsFrame()]));
      await readFrames(socket, (f) => f.length >= 1);
      const requests: Buffer[] = [settingsAck()];
      const values: string[] = [];
      for (let octet = 0; octet < 256; octet++) values.push(`a${String.fromCharCode(octet)}b`);
      values.push('', 'http://127.0.0.1:2379', '#initially=[http://127.0.0.1:2379]', '127.0.0.1:2379', '[::1]:2379', 'user@host:1');
      values.forEach((value, i) => {
        const base = [
          { name: ':method', value: 'GET' },
          { name: ':scheme', value: 'http' },
          { name: ':path', value: '/' },
        ];
        requests.push(headersFrame(4 * i + 1, [...base, { name: ':authority', value }], { endStream: true }));
        requests.push(headersFrame(4 * i + 3, [...base, { name: 'host', value }], { endStream: true }));
      });
      socket.write(Buffer.concat(requests));
      const last = 4 * (values.length - 1) + 3;
      const frames = await readFrames(socket, (f) =>
        f.some((x) => x.header.streamId === last && (x.header.type === FrameType.RST_STREAM || x.header.type === FrameType.HEADERS)),
      );
      socket.destroy();
      const reset = new Set(frames.filter((f) => f.header.type === FrameType.RST_STREAM).map((f) => f.header.streamId));
      const answered = new Set(frames.filter((f) => f.header.type === FrameType.HEADERS).map((f) => f.header.streamId));
      const mismatches: string[] = [];
      values.forEach((value, i) => {
        for (const [streamId, name] of [
          [4 * i + 1, ':authority'],
          [4 * i + 3, 'host'],
        ] as const) {
          expect(reset.has(streamId) || answered.has(streamId), `stream ${streamId} got an answer`).to.equal(true);
          if (reset.has(streamId) !== nghttp2RejectsAuthority(value))
            mismatches.push(`${name}: ${JSON.stringify(value)} ${reset.has(streamId) ? 'reset' : 'answered'}`);
        }
      });
      expect(mismatches).to.deep.equal([]);
      expect(reset.size).to.be.greaterThan(2 * 150);
    });
  });
});
