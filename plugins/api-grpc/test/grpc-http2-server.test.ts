import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { createServer, type Server as NetServer } from 'node:net';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import type * as grpc from '@grpc/grpc-js';
import { EtcdError, EtcdErrors, GrpcCode, type Logger } from '@cairn/core';
import { toGrpcStatus } from '../src/grpc-status.js';
import { GrpcHttp2Server, type GrpcHttp2ServerOptions } from '../src/server/grpc-http2-server.js';
import type { StreamHandler, UnaryHandler } from '../src/server/server-calls.js';

/** Messages are UTF-8 strings on the wire; "bad" cannot be decoded. */
const text = {
  serialize: (s: { text: string }): Buffer => Buffer.from(s.text),
  deserialize: (b: Buffer): { text: string } => {
    if (b.toString() === 'bad') throw new Error('illegal wire type');
    return { text: b.toString() };
  },
};
const method = (name: string, requestStream: boolean, responseStream: boolean): grpc.MethodDefinition<{ text: string }, { text: string }> => ({
  path: `/test.Echo/${name}`,
  requestStream,
  responseStream,
  requestSerialize: text.serialize,
  requestDeserialize: text.deserialize,
  responseSerialize: text.serialize,
  responseDeserialize: text.deserialize,
});
const echoService = { Unary: method('Unary', false, false), Listen: method('Listen', false, true), Chat: method('Chat', true, true) };

interface Answer {
  readonly headers: IncomingHttpHeaders;
  readonly trailers: IncomingHttpHeaders;
  readonly messages: string[];
  readonly rstCode: number;
}

/** One call on a raw HTTP/2 session: `body` as the request's DATA, the whole answer back. */
function call(session: ClientHttp2Session, path: string, body: Buffer, extra: OutgoingHttpHeaders = {}): Promise<Answer> {
  return new Promise((resolve) => {
    const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...extra });
    let headers: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => (headers = h));
    stream.on('trailers', (t) => (trailers = t));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', () => undefined);
    stream.on('close', () => {
      const messages: string[] = [];
      let data = Buffer.concat(chunks);
      while (data.length >= 5) {
        const length = data.readUInt32BE(1);
        messages.push(data.subarray(5, 5 + length).toString());
        data = data.subarray(5 + length);
      }
      resolve({ headers, trailers, messages, rstCode: stream.rstCode ?? 0 });
    });
    stream.end(body);
  });
}

const framed = (message: string | Buffer, compressed = false): Buffer => {
  const bytes = typeof message === 'string' ? Buffer.from(message) : message;
  const prefix = Buffer.alloc(5);
  prefix[0] = compressed ? 1 : 0;
  prefix.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([prefix, bytes]);
};
/** The status of an answer, wherever it came (trailers, or the headers of a trailers-only answer). */
const statusOf = (a: Answer): { code: string | undefined; message: string | undefined } => {
  const source = a.trailers['grpc-status'] !== undefined ? a.trailers : a.headers;
  return { code: source['grpc-status'] as string | undefined, message: source['grpc-message'] as string | undefined };
};

describe('GrpcHttp2Server: gRPC on node:http2', () => {
  let server: GrpcHttp2Server;
  let listener: NetServer;
  let session: ClientHttp2Session;
  let port: number;
  const slowCalls: (() => void)[] = [];

  async function start(options: Partial<GrpcHttp2ServerOptions> = {}): Promise<void> {
    server = new GrpcHttp2Server({ maxReceiveBytes: 1024, keepaliveIntervalMs: 0, keepaliveTimeoutMs: 1000, ...options });
    const unary: UnaryHandler = (c, callback) => {
      const request = (c.request as { text: string }).text;
      if (request === 'fail') callback(toGrpcStatus(EtcdErrors.keyNotFound()));
      else if (request === 'odd') callback(toGrpcStatus(new EtcdError(GrpcCode.FailedPrecondition, '100% sure: é\n')));
      else if (request === 'slow') slowCalls.push(() => callback(null, { text: 'late' }));
      else if (request === 'cancel-me') c.once('cancelled', () => slowCalls.push(() => undefined));
      else callback(null, { text: `${request}:${c.requestBytes}` });
    };
    const listen: StreamHandler = (c) => {
      const request = (c.request as { text: string }).text;
      c.write({ text: `${request}-1` });
      c.write({ text: `${request}-2` });
      c.end();
    };
    const chat: StreamHandler = (c) => {
      c.on('data', (m: { text: string }) => (m.text === 'fail' ? c.emit('error', toGrpcStatus(EtcdErrors.noLeader())) : c.write(m)));
      c.on('end', () => c.end());
    };
    server.addService(echoService, { Unary: unary, Listen: listen, Chat: chat });
    listener = createServer((socket) => server.injectConnection(socket));
    port = await new Promise<number>((resolve) => listener.listen(0, '127.0.0.1', () => resolve((listener.address() as { port: number }).port)));
    session = connect(`http://127.0.0.1:${port}`);
    session.on('error', () => undefined);
    await new Promise((resolve) => session.once('connect', resolve));
  }

  afterEach(async () => {
    session.destroy();
    await server.close(100);
    await new Promise<void>((resolve) => listener.close(() => resolve()));
    slowCalls.length = 0;
  });

  it('answers a unary call with its message, then grpc-status 0 in the trailers', async () => {
    await start();
    const answer = await call(session, '/test.Echo/Unary', framed('hello'));
    expect(answer.headers[':status']).to.equal(200);
    expect(answer.headers['content-type']).to.equal('application/grpc+proto');
    expect(answer.messages).to.deep.equal(['hello:5']);
    expect(statusOf(answer)).to.deep.equal({ code: '0', message: undefined });
  });

  it("answers a failure trailers-only, with etcd's message percent-encoded only where the spec asks", async () => {
    await start();
    const answer = await call(session, '/test.Echo/Unary', framed('fail'));
    expect(answer.messages).to.deep.equal([]);
    expect(statusOf(answer)).to.deep.equal({ code: '3', message: 'etcdserver: key not found' });
    const odd = await call(session, '/test.Echo/Unary', framed('odd'));
    expect(statusOf(odd)).to.deep.equal({ code: '9', message: '100%25 sure: %C3%A9%0A' });
  });

  it('refuses an unknown method (UNIMPLEMENTED), a request it cannot decode (INTERNAL), a body that is not gRPC (415)', async () => {
    await start();
    expect(statusOf(await call(session, '/test.Echo/Nope', framed('x')))).to.deep.equal({
      code: '12',
      message: 'The server does not implement the method /test.Echo/Nope',
    });
    expect(statusOf(await call(session, '/test.Echo/Unary', framed('bad')))).to.deep.equal({
      code: '13',
      message: 'grpc: error unmarshalling request: illegal wire type',
    });
    const notGrpc = await call(session, '/test.Echo/Unary', framed('x'), { 'content-type': 'application/json' });
    expect(notGrpc.headers[':status']).to.equal(415);
  });

  it('refuses a message over maxReceiveBytes from its length prefix (RESOURCE_EXHAUSTED), and serves the next call', async () => {
    await start();
    const prefixOnly = Buffer.alloc(5);
    prefixOnly.writeUInt32BE(4096, 1);
    expect(statusOf(await call(session, '/test.Echo/Unary', prefixOnly))).to.deep.equal({
      code: '8',
      message: 'Received message larger than max (4096 vs. 1024)',
    });
    expect((await call(session, '/test.Echo/Unary', framed('after'))).messages).to.deep.equal(['after:5']);
  });

  it('inflates gzip requests, and refuses a compressed message without an encoding', async () => {
    await start();
    const zipped = await call(session, '/test.Echo/Unary', framed(gzipSync('zipped'), true), { 'grpc-encoding': 'gzip' });
    expect(zipped.messages).to.deep.equal(['zipped:6']);
    expect(statusOf(await call(session, '/test.Echo/Unary', framed('plain', true))).code).to.equal('13');
    const unknown = await call(session, '/test.Echo/Unary', framed('x', true), { 'grpc-encoding': 'snappy' });
    expect(statusOf(unknown)).to.deep.equal({ code: '12', message: 'grpc: Decompressor is not installed for grpc-encoding "snappy"' });
  });

  it("ends a call past the client's grpc-timeout with DEADLINE_EXCEEDED, and tells the handler it was cancelled", async () => {
    await start();
    const answer = await call(session, '/test.Echo/Unary', framed('cancel-me'), { 'grpc-timeout': '50m' });
    expect(statusOf(answer)).to.deep.equal({ code: '4', message: 'Deadline exceeded' });
    expect(slowCalls).to.have.length(1);
    expect(statusOf(await call(session, '/test.Echo/Unary', framed('x'), { 'grpc-timeout': 'soon' })).code).to.equal('13');
  });

  it('streams a server stream and a bidi stream in order; a handler error ends the stream with its status', async () => {
    await start();
    const listened = await call(session, '/test.Echo/Listen', framed('n'));
    expect(listened.messages).to.deep.equal(['n-1', 'n-2']);
    expect(statusOf(listened).code).to.equal('0');
    const chat = await call(session, '/test.Echo/Chat', Buffer.concat([framed('a'), framed('b'), framed('c')]));
    expect(chat.messages).to.deep.equal(['a', 'b', 'c']);
    expect(statusOf(chat).code).to.equal('0');
    const failed = await call(session, '/test.Echo/Chat', Buffer.concat([framed('a'), framed('fail')]));
    expect(failed.messages).to.deep.equal(['a']);
    expect(statusOf(failed)).to.deep.equal({ code: '14', message: 'etcdserver: no leader' });
  });

  it('lets calls in flight finish at close, then closes the connection', async () => {
    await start();
    const pending = call(session, '/test.Echo/Unary', framed('slow'));
    await new Promise((r) => setTimeout(r, 50));
    const closed = server.close(2000);
    slowCalls.shift()!();
    expect((await pending).messages).to.deep.equal(['late']);
    await closed;
  });

  describe('keepalive enforcement (--grpc-keepalive-min-time)', () => {
    const ping = (s: ClientHttp2Session): Promise<void> => new Promise((resolve) => s.ping(() => resolve()));
    const goaway = (s: ClientHttp2Session): Promise<{ code: number; data: string } | undefined> =>
      new Promise((resolve) => {
        s.once('goaway', (code: number, _last: number, data?: Buffer) => resolve({ code, data: data?.toString() ?? '' }));
        setTimeout(() => resolve(undefined), 300);
      });

    it('sends GOAWAY ENHANCE_YOUR_CALM "too_many_pings" to a client pinging with no call open, at the third ping too soon, and logs it', async () => {
      const warnings: string[] = [];
      const logger: Logger = { debug() {}, info() {}, warn: (_fields, message) => void warnings.push(message), error() {}, child: () => logger };
      await start({ keepaliveMinTimeMs: 100, logger });
      const sentAway = goaway(session);
      for (let i = 0; i < 4; i++) await ping(session).catch(() => undefined);
      expect(await sentAway).to.deep.equal({ code: constants.NGHTTP2_ENHANCE_YOUR_CALM, data: 'too_many_pings' });
      expect(warnings).to.deep.equal(['client pinged too often: sent GOAWAY ENHANCE_YOUR_CALM "too_many_pings"']);
    });

    it('lets a client with a call open ping every min-time, and sends away one pinging faster', async () => {
      await start({ keepaliveMinTimeMs: 60 });
      const open = session.request({ ':method': 'POST', ':path': '/test.Echo/Chat', 'content-type': 'application/grpc', te: 'trailers' });
      open.on('error', () => undefined);
      await new Promise((r) => setTimeout(r, 20));
      const patient = goaway(session);
      for (let i = 0; i < 4; i++) {
        await ping(session);
        await new Promise((r) => setTimeout(r, 80));
      }
      expect(await patient).to.equal(undefined);
      const eager = goaway(session);
      for (let i = 0; i < 4; i++) await ping(session).catch(() => undefined);
      expect(await eager).to.deep.equal({ code: constants.NGHTTP2_ENHANCE_YOUR_CALM, data: 'too_many_pings' });
      open.close();
    });
  });
});
