import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Container } from 'inversify';
import { MessageType, TRANSPORT, type TlsSettings, type Transport } from '@cairn/core';
import { MemoryLogger, RecordingHandler, TestCertificates, message, pluginContext, waitUntil, type TestAuthority } from '@cairn/core/testkit';
import plugin, { type TcpPluginOptions } from '../src/plugin.js';
import type { TcpTransport } from '../src/tcp-transport.js';
import { freeLoopbackPorts } from './loopback-ports.js';

const defaults: TcpPluginOptions = { queueSize: 256, reconnectInitialMs: 10, reconnectMaxMs: 100, maxFrameBytes: 65536, snapshotChunkBytes: 4096 };
const NO_TLS: TlsSettings = { certFile: '', keyFile: '', trustedCaFile: '', clientCertAuth: false, autoTls: false, cipherSuites: [], minVersion: 'TLS1.2' };

describe("@cairn/transport-tcp with etcd's --peer-* TLS flags (https:// peer URLs)", function () {
  this.timeout(30_000);
  let certs: TestCertificates;
  let ca: TestAuthority;
  let dataDir: string;
  const started: Transport[] = [];

  before(() => {
    certs = new TestCertificates();
    ca = certs.authority('peer-ca');
  });
  after(() => certs.remove());
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'cairn-peer-tls-'));
  });
  afterEach(async () => {
    for (const t of started.splice(0)) await t.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function member(
    id: string,
    port: number,
    peerTls: TlsSettings | undefined,
    peers: Map<string, string[]>,
    logger = new MemoryLogger(),
  ): Promise<{ transport: TcpTransport; handler: RecordingHandler; logger: MemoryLogger }> {
    const context = pluginContext(join(dataDir, id), {
      ports: ['transport'],
      listenPeerUrls: [`https://127.0.0.1:${port}`],
      logger,
      ...(peerTls === undefined ? {} : { peerTls }),
    });
    const container = new Container();
    await container.loadAsync(plugin.createModule(defaults, context));
    const transport = container.get<Transport>(TRANSPORT) as TcpTransport;
    const handler = new RecordingHandler();
    transport.setPeers(peers);
    await transport.start(id, handler, 'c0ffee0000000001');
    started.push(transport);
    return { transport, handler, logger };
  }

  it('members whose certificates our CA signed talk; one signed by another CA is refused at the handshake, logged, and delivers nothing', async () => {
    const [pa, pb, pc] = await freeLoopbackPorts(3);
    const [A, B, C] = ['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb', 'cccccccccccccccc'];
    const peers = new Map([
      [A, [`https://127.0.0.1:${pa}`]],
      [B, [`https://127.0.0.1:${pb}`]],
      [C, [`https://127.0.0.1:${pc}`]],
    ]);
    const flags = (cert: { certFile: string; keyFile: string }, trusted: string): TlsSettings => ({
      ...NO_TLS,
      certFile: cert.certFile,
      keyFile: cert.keyFile,
      trustedCaFile: trusted,
      clientCertAuth: true,
    });
    const a = await member(A, pa!, flags(certs.issue(ca, 'member-a'), ca.caFile), peers);
    const b = await member(B, pb!, flags(certs.issue(ca, 'member-b'), ca.caFile), peers);
    const foreign = certs.authority('foreign-ca');
    // The stranger trusts our CA (it would accept us): only our side's check keeps it out.
    const c = await member(C, pc!, flags(certs.issue(foreign, 'member-c'), ca.caFile), peers);
    for (let i = 0; i < 5; i++) {
      a.transport.send([message(MessageType.Heartbeat, A, B, { index: i })]);
      c.transport.send([message(MessageType.Heartbeat, C, A, { index: i }), message(MessageType.Heartbeat, C, B, { index: i })]);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await waitUntil(() => b.handler.messages.length > 0, 'B hears A over TLS');
    await waitUntil(() => a.transport.metrics().refusedConnections > 0, 'A refused the stranger');
    expect(a.handler.messages.filter((m) => m.from === C)).to.deep.equal([]);
    expect(b.handler.messages.filter((m) => m.from === C)).to.deep.equal([]);
    const refusals = a.logger.lines().filter((l) => l.message === 'refused a peer connection at the TLS handshake');
    expect(refusals.length).to.be.greaterThan(0);
    expect(String(refusals[0]!.fields['reason'])).to.match(/peer certificate refused/);
  });

  it('--peer-auto-tls: members with self-signed certificates in <data-dir>/fixtures/peer talk over TLS', async () => {
    const [pa, pb] = await freeLoopbackPorts(2);
    const [A, B] = ['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb'];
    const peers = new Map([
      [A, [`https://127.0.0.1:${pa}`]],
      [B, [`https://127.0.0.1:${pb}`]],
    ]);
    const auto = { ...NO_TLS, autoTls: true };
    const a = await member(A, pa!, auto, peers);
    const b = await member(B, pb!, auto, peers);
    a.transport.send([message(MessageType.Heartbeat, A, B, { index: 1 })]);
    b.transport.send([message(MessageType.Heartbeat, B, A, { index: 2 })]);
    await waitUntil(() => a.handler.messages.length > 0 && b.handler.messages.length > 0, 'both hear each other');
    expect(existsSync(join(dataDir, A, 'fixtures', 'peer', 'cert.pem'))).to.equal(true);
    expect(existsSync(join(dataDir, B, 'fixtures', 'peer', 'key.pem'))).to.equal(true);
  });

  it('an https:// peer URL without peer TLS flags, or with a bad file, is a config error', () => {
    const context = pluginContext(dataDir, { ports: ['transport'], listenPeerUrls: ['https://127.0.0.1:2380'] });
    expect(() => plugin.createModule(defaults, context)).to.throw(
      /--peer-cert-file, --peer-key-file\) must be provided for peer url https:\/\/127\.0\.0\.1:2380/,
    );
    const missing = { ...NO_TLS, certFile: join(dataDir, 'none.pem'), keyFile: join(dataDir, 'none.key') };
    expect(() => plugin.createModule(defaults, { ...context, peerTls: missing })).to.throw(/cannot read .*none\.pem/);
    // http:// peer URLs ignore the flags, as etcd does.
    expect(() => plugin.createModule(defaults, { ...context, listenPeerUrls: ['http://127.0.0.1:2380'], peerTls: missing })).to.not.throw();
  });
});
