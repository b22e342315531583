import assert from 'node:assert/strict';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pluginContext, rejection, startTestMember, TemporaryDirectories } from '@cairn/core/testkit';
import natsTransportPlugin from '../src/plugin.js';
import type { NatsPluginOptions } from '../src/plugin-options.js';
import { NatsServerProcess, skipWithoutNatsServer } from '../testing/index.js';

const pluginDirectory = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const defaults: NatsPluginOptions = {
  servers: ['nats://127.0.0.1:4222'],
  subjectPrefix: 'cairn',
  maxReconnectAttempts: -1,
  reconnectTimeWaitMs: 250,
  reconnectJitterMs: 100,
  pingIntervalMs: 5000,
  maxPingOut: 3,
  connectTimeoutMs: 5000,
  queueSize: 4096,
  maxMessageBytes: 64 << 20,
  snapshotWindow: 4,
  snapshotRetransmitMs: 1000,
  snapshotIdleTimeoutMs: 30000,
};

describe('@cairn/transport-nats as a plugin', function () {
  this.timeout(30_000);
  const directories = new TemporaryDirectories('cairn-nats-plugin');
  after(() => directories.removeAll());

  it('refuses TCP-style peer URLs with one error naming the URL and the form it wants', async () => {
    const err = await rejection(
      startTestMember({
        dataDir: await directories.make(),
        config: {
          name: 'n1',
          'initial-cluster': 'n1=nats://n1,n2=http://127.0.0.1:2380',
          plugins: { transport: { use: pluginDirectory, servers: ['nats://127.0.0.1:1'] } },
        },
      }),
    );
    assert.equal(err.name, 'ConfigError');
    assert.equal(
      err.message,
      'config: plugins.transport: plugin "@cairn/transport-nats": initial-cluster: n2=http://127.0.0.1:2380 is not a NATS peer URL: ' +
        '@cairn/transport-nats reaches members by subject, e.g. n2=nats://n2 (choose @cairn/transport-tcp under plugins.transport for http:// peer URLs)',
    );
  });

  it('checks the advertised peer URLs only when the initial cluster does not name the member', () => {
    const joining = pluginContext('/nonexistent', {
      name: 'n4',
      initialCluster: new Map([['n1', ['nats://n1']]]),
      advertisePeerUrls: ['tcp://127.0.0.1:2380'],
    });
    assert.throws(
      () => natsTransportPlugin.createModule(defaults, joining),
      /^Error: initial-advertise-peer-urls: tcp:\/\/127\.0\.0\.1:2380 is not a NATS peer URL.*n4=nats:\/\/n4/,
    );
    // Named in the initial cluster, the member's advertised URLs (here etcd's default) are not used.
    const founder = pluginContext('/nonexistent', { initialCluster: new Map([['n1', ['nats://n1']]]), advertisePeerUrls: ['http://localhost:2380'] });
    assert.doesNotThrow(() => natsTransportPlugin.createModule(defaults, founder));
  });

  it('refuses two ways to authenticate, and half a user', () => {
    const context = pluginContext('/nonexistent');
    assert.throws(
      () => natsTransportPlugin.createModule({ ...defaults, token: 't', user: 'u', pass: 'p' }, context),
      /one way to authenticate, not token and user\/pass/,
    );
    assert.throws(() => natsTransportPlugin.createModule({ ...defaults, user: 'u' }, context), /user and pass go together/);
    assert.throws(() => natsTransportPlugin.createModule({ ...defaults, credsFile: '/nonexistent/x.creds' }, context), /credsFile: cannot read/);
  });

  describe('with a nats-server', () => {
    let server: NatsServerProcess | undefined;
    before(async function () {
      skipWithoutNatsServer(this);
      server = await NatsServerProcess.startAlone();
    });
    after(async () => server?.stop());

    it('a member assembled with it runs over NATS and reports the connection in its metrics', async () => {
      const member = await startTestMember({
        dataDir: await directories.make(),
        config: {
          name: 'n1',
          'initial-cluster': 'n1=nats://n1',
          'initial-cluster-token': 'plugin-test',
          plugins: { transport: { use: pluginDirectory, servers: [server!.url] } },
        },
      });
      try {
        const metrics = await member.services.metrics!.text();
        assert.match(metrics, /cairn_nats_connection_state\{state="connected"\} 1/);
        assert.match(metrics, new RegExp(`cairn_nats_server_info\\{server="127\\.0\\.0\\.1:${server!.port}"\\} 1`));
        assert.match(metrics, /# TYPE etcd_network_peer_sent_bytes_total counter/);
      } finally {
        await member.stop();
      }
    });
  });
});
