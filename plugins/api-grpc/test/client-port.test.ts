import { request } from 'node:http';
import { connect } from 'node:net';
import { expect } from 'chai';
import { EMPTY_SETTINGS, HTTP2_PREFACE, silentAfter, type RawOutcome } from '@cairn/core/testkit';
import { guessProtocol } from '../src/client-port-listener.js';
import { startHarness, type Harness } from './harness.js';

function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const PREFACE = HTTP2_PREFACE.toString('latin1');

/** Opens a raw connection, writes `bytes`, then nothing; resolves with how long the server kept it open and what it answered. */
const slowloris = (port: number, bytes: string | Buffer, giveUpMs: number): Promise<RawOutcome> =>
  silentAfter(port, [typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes], giveUpMs);

describe('gRPC frontend: client connections that never complete a handshake', () => {
  const TIMEOUT_MS = 400;
  let harness: Harness;

  before(async () => {
    harness = await startHarness({ handshakeTimeoutMs: TIMEOUT_MS });
  });
  after(async () => {
    await harness.close();
  });

  it('closes a connection that sends nothing, half an HTTP/2 preface, or a preface without its SETTINGS, after the timeout', async () => {
    const cases = await Promise.all([
      slowloris(harness.port, Buffer.alloc(0), 5_000),
      slowloris(harness.port, PREFACE.slice(0, 10), 5_000),
      slowloris(harness.port, PREFACE, 5_000),
      slowloris(harness.port, Buffer.concat([Buffer.from(PREFACE), EMPTY_SETTINGS.subarray(0, 5)]), 5_000),
    ]);
    for (const c of cases) {
      expect(c.closedAfterMs).to.be.a('number');
      expect(c.closedAfterMs!).to.be.within(TIMEOUT_MS - 50, TIMEOUT_MS + 1_500);
    }
  });

  it('answers a partial HTTP/1.1 request 408 and closes it after the timeout', async () => {
    const c = await slowloris(harness.port, 'POST /v3/kv/range HTTP/1.1\r\nHost: cairn\r\nContent-Ty', 5_000);
    expect(c.closedAfterMs).to.be.a('number');
    expect(c.closedAfterMs!).to.be.within(TIMEOUT_MS - 50, TIMEOUT_MS + 1_500);
    expect(c.answer).to.match(/^HTTP\/1\.1 408 Request Timeout\r\n/);
  });

  it("answers unparsable HTTP/1 bytes with Go's 400", async () => {
    const c = await slowloris(harness.port, 'GET / HTTP/1.1\r\nBad Header Line\r\n\r\n', 5_000);
    expect(c.closedAfterMs).to.be.below(TIMEOUT_MS);
    expect(c.answer).to.match(/^HTTP\/1\.1 400 Bad Request\r\n/);
  });

  it('serves a client that completes its preface, and keeps it open while idle', async () => {
    const idle = await slowloris(harness.port, Buffer.concat([Buffer.from(PREFACE), EMPTY_SETTINGS]), 3 * TIMEOUT_MS);
    expect(idle.closedAfterMs).to.equal(undefined);
    // The server's first frame is its SETTINGS.
    expect(idle.answer.charCodeAt(3)).to.equal(4);
    const kv = harness.client('KV');
    await kv.call('Put', { key: Buffer.from('after-slowloris'), value: Buffer.from('1') });
  });
});

describe('gRPC frontend: one client port', () => {
  let harness: Harness;

  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  it('tells HTTP/2 from HTTP/1.x by the first bytes', () => {
    expect(guessProtocol(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'))).to.equal('http2');
    expect(guessProtocol(Buffer.from('PRI * HT'))).to.equal('undecided');
    expect(guessProtocol(Buffer.alloc(0))).to.equal('undecided');
    expect(guessProtocol(Buffer.from('POST /v3/kv/range HTTP/1.1\r\n'))).to.equal('http1');
    expect(guessProtocol(Buffer.from('PRX'))).to.equal('http1');
  });

  it('answers HTTP/1.1 with 404 and gRPC on the same port, in any order', async () => {
    const kv = harness.client('KV');
    await kv.call('Put', { key: Buffer.from('a'), value: Buffer.from('1') });
    const http = await httpGet(harness.port, '/v3/kv/range');
    expect(http).to.deep.equal({ status: 404, body: '404 page not found\n' });
    const range = await kv.call<{ count: string }>('Range', { key: Buffer.from('a') });
    expect(range.count).to.equal('1');
    expect((await httpGet(harness.port, '/health')).status).to.equal(404);
  });

  it('routes an HTTP/2 preface that arrives a few bytes at a time', async () => {
    // A raw socket sends half the preface first; the listener must wait, not guess HTTP/1.
    const socket = connect(harness.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('PRI * HTTP/2.0\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.write('\r\nSM\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    // The client's preface ends with its SETTINGS frame (empty here); a connection is routed once it has it.
    socket.write(EMPTY_SETTINGS);
    // An HTTP/2 server answers the preface with its SETTINGS frame (type 0x4).
    const frame = await new Promise<Buffer>((resolve) => socket.once('data', resolve));
    expect(frame[3]).to.equal(0x4);
    socket.destroy();
  });

  it('stops listening on stop()', async () => {
    const port = harness.port;
    await harness.close();
    const refused = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.on('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    expect(refused).to.equal('ECONNREFUSED');
    harness = await startHarness();
  });
});
