import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ContainerModule } from 'inversify';
import { METRICS_COLLECTOR, TRANSPORT, type CairnPlugin } from '@cairn/core';
import { ownNatsPeerUrls } from './member-peer-urls.js';
import { checkSubjectPrefix } from './member-subject.js';
import type { NatsCredentials } from './nats-client.js';
import { NatsTransport } from './nats-transport.js';
import { NatsTransportMetrics } from './nats-transport-metrics.js';
import type { NatsTransportOptions } from './nats-transport-options.js';
import { NatsTransportStats } from './nats-transport-stats.js';
import { pluginOptionsSchema, type NatsPluginOptions } from './plugin-options.js';
import { NATS_TRANSPORT_LOGGER, NATS_TRANSPORT_OPTIONS } from './tokens.js';

/** The transport's options but what the member's configuration adds (its peer URLs, the cluster token). */
export type NatsPluginSettings = Omit<NatsTransportOptions, 'listen' | 'clusterToken'>;

function readSecret(path: string, key: string): Buffer {
  try {
    return readFileSync(resolve(path));
  } catch (err) {
    throw new Error(`${key}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

/** One way to authenticate, or none: two would be ambiguous. */
function credentialsOf(options: NatsPluginOptions): NatsCredentials {
  const given = [
    options.token !== undefined && 'token',
    (options.user !== undefined || options.pass !== undefined) && 'user/pass',
    options.nkeySeedFile !== undefined && 'nkeySeedFile',
    options.credsFile !== undefined && 'credsFile',
  ].filter((x): x is string => x !== false);
  if (given.length > 1) throw new Error(`give one way to authenticate, not ${given.join(' and ')}`);
  if (options.token !== undefined) return { kind: 'token', token: options.token };
  if (options.user !== undefined || options.pass !== undefined) {
    if (options.user === undefined || options.pass === undefined) throw new Error('user and pass go together');
    return { kind: 'user', user: options.user, pass: options.pass };
  }
  if (options.nkeySeedFile !== undefined) {
    return { kind: 'nkey', seed: new TextEncoder().encode(readSecret(options.nkeySeedFile, 'nkeySeedFile').toString('utf8').trim()) };
  }
  if (options.credsFile !== undefined) return { kind: 'creds', creds: readSecret(options.credsFile, 'credsFile') };
  return { kind: 'none' };
}

/** The NATS peer transport as a Cairn plugin: binds TRANSPORT, and its metrics. */
const natsTransportPlugin: CairnPlugin<NatsPluginOptions> = {
  manifest: {
    name: '@cairn/transport-nats',
    provides: ['transport'],
    optionsSchema: pluginOptionsSchema,
  },
  createModule(options, context) {
    const listen = ownNatsPeerUrls(context);
    if (options.tls !== undefined && (options.tls.certFile === undefined) !== (options.tls.keyFile === undefined)) {
      throw new Error('tls: certFile and keyFile go together');
    }
    if (options.snapshotChunkBytes !== undefined && options.maxPayload !== undefined && options.snapshotChunkBytes > options.maxPayload) {
      throw new Error(`snapshotChunkBytes (${options.snapshotChunkBytes}) exceeds maxPayload (${options.maxPayload})`);
    }
    const settings: NatsPluginSettings = {
      servers: options.servers,
      name: options.name ?? `cairn-${context.name}`,
      subjectPrefix: checkSubjectPrefix(options.subjectPrefix),
      clusterId: context.clusterId,
      credentials: credentialsOf(options),
      ...(options.tls === undefined ? {} : { tls: { ...options.tls } }),
      maxReconnectAttempts: options.maxReconnectAttempts,
      reconnectTimeWaitMs: options.reconnectTimeWaitMs,
      reconnectJitterMs: options.reconnectJitterMs,
      pingIntervalMs: options.pingIntervalMs,
      maxPingOut: options.maxPingOut,
      connectTimeoutMs: options.connectTimeoutMs,
      ...(options.maxPayload === undefined ? {} : { maxPayload: options.maxPayload }),
      queueSize: options.queueSize,
      maxMessageBytes: options.maxMessageBytes,
      ...(options.snapshotChunkBytes === undefined ? {} : { snapshotChunkBytes: options.snapshotChunkBytes }),
      snapshotWindow: options.snapshotWindow,
      snapshotRetransmitMs: options.snapshotRetransmitMs,
      snapshotIdleTimeoutMs: options.snapshotIdleTimeoutMs,
    };
    return new ContainerModule(({ bind }) => {
      bind(NATS_TRANSPORT_OPTIONS).toConstantValue({ ...settings, listen, clusterToken: context.clusterToken });
      bind(NATS_TRANSPORT_LOGGER).toConstantValue(context.logger);
      bind(NatsTransportStats).toSelf().inSingletonScope();
      bind(TRANSPORT).to(NatsTransport).inSingletonScope();
      bind(METRICS_COLLECTOR).to(NatsTransportMetrics).inSingletonScope();
    });
  },
};

export default natsTransportPlugin;
