import { request } from 'node:http';
import { connect } from 'node:net';
import { expect } from 'chai';
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
