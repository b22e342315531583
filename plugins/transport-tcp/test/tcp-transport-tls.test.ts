import { expect } from 'chai';
import { Container } from 'inversify';
import { MessageType, TRANSPORT, type PluginContext, type Transport } from '@cairn/core';
import { RecordingHandler, message, pluginContext, transportConformance, waitUntil } from '@cairn/core/testkit';
import plugin from '../src/index.js';
import { TcpTransport } from '../src/tcp-transport.js';
import { freeLoopbackPorts } from './loopback-ports.js';
import { tcpRawWire } from './raw-peer-wire.js';
import { makeTestCertificates, type TestCertificates } from './test-certificates.js';

const QUEUE_SIZE = 256;
let certificates: TestCertificates;

describe('TcpTransport over mutual TLS', () => {
  before(() => {
    certificates = makeTestCertificates();
  });
  after(() => certificates.remove());

  transportConformance(
    'TcpTransport with TLS',
    async (memberCount) => {
      const ports = await freeLoopbackPorts(memberCount);
      const members = ports.map((_, i) => (i + 1).toString(16).padStart(16, 'c'));
      const { cert, key, ca } = certificates.member;
      return {
        members,
        peers: new Map(members.map((id, i) => [id, [`tcp://127.0.0.1:${ports[i]}`]])),
        queueSize: QUEUE_SIZE,
        create: (id) =>
          new TcpTransport({
            listen: `127.0.0.1:${ports[members.indexOf(id)]}`,
            clusterId: 'tls-cluster',
            queueSize: QUEUE_SIZE,
            reconnect: { initialMs: 10, maxMs: 200 },
            tls: { cert, key, ca },
          }),
        dispose: async () => undefined,
      };
    },
    { rawWire: tcpRawWire },
  );

  it('refuses a member whose certificate another CA signed, in both directions', async () => {
    const [portA, portB] = await freeLoopbackPorts(2);
    const [A, B] = ['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb'];
    const peers = new Map([
      [A, [`tcp://127.0.0.1:${portA}`]],
      [B, [`tcp://127.0.0.1:${portB}`]],
    ]);
    const { cert, key, ca } = certificates.stranger;
    const stranger = new TcpTransport({
      listen: `127.0.0.1:${portA}`,
      clusterId: 'tls-cluster',
      tls: { cert, key, ca },
      reconnect: { initialMs: 10, maxMs: 50 },
    });
    const member = new TcpTransport({
      listen: `127.0.0.1:${portB}`,
      clusterId: 'tls-cluster',
      tls: certificates.member,
      reconnect: { initialMs: 10, maxMs: 50 },
    });
    const toStranger = new RecordingHandler();
    const toMember = new RecordingHandler();
    try {
      for (const [t, id, h] of [
        [stranger, A, toStranger],
        [member, B, toMember],
      ] as const) {
        t.setPeers(peers);
        await t.start(id, h);
      }
      for (let i = 0; i < 5; i++) {
        stranger.send([message(MessageType.Heartbeat, A, B, { index: i })]);
        member.send([message(MessageType.Heartbeat, B, A, { index: i })]);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await waitUntil(() => member.metrics().refusedConnections > 0 && stranger.metrics().refusedConnections > 0, 'both refused the other at the handshake');
      expect(toMember.messages).to.have.length(0);
      expect(toStranger.messages).to.have.length(0);
    } finally {
      await stranger.stop();
      await member.stop();
    }
  });

  it('reads the PEM files named in the plugin options', async () => {
    const [port] = await freeLoopbackPorts(1);
    const context: PluginContext = pluginContext('/nonexistent', {
      clusterId: 'c0ffee0000000001',
      memberId: '0000000000000001',
      ports: ['transport'],
      listenPeerUrls: [`http://127.0.0.1:${port}`],
    });

    const options = { queueSize: 64, reconnectInitialMs: 50, reconnectMaxMs: 2000, maxFrameBytes: 1 << 20, snapshotChunkBytes: 1 << 16 };
    const container = new Container();
    await container.load(plugin.createModule({ ...options, tls: certificates.member.files }, context));
    const transport = container.get<Transport>(TRANSPORT);
    await transport.start('dddddddddddddddd', new RecordingHandler());
    await transport.stop();
    expect(() => plugin.createModule({ ...options, tls: { ...certificates.member.files, keyFile: '/nonexistent/key.pem' } }, context)).to.throw(
      'tls.keyFile: cannot read /nonexistent/key.pem: ENOENT',
    );
  });
});
