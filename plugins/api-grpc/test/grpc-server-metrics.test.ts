import { createServer, type Server as NetServer } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { API_FRONTEND, EtcdErrors, METRICS_COLLECTOR, type Logger, type MetricsCollector, type PluginContext } from '@cairn/core';
import { pluginContext, pluginTestContainer } from '@cairn/core/testkit';
import plugin, { etcdPackageDefinition, type GrpcFrontend } from '../src/index.js';
import { GrpcServerMetrics } from '../src/grpc-server-metrics.js';
import { GrpcHttp2Server } from '../src/server/grpc-http2-server.js';
import type { StreamHandler, UnaryHandler } from '../src/server/server-calls.js';
import { toGrpcStatus } from '../src/grpc-status.js';
import { RawClient } from './harness.js';
import { MapServices } from './map-services.js';

const bytes = { serialize: (b: Buffer): Buffer => b, deserialize: (b: Buffer): Buffer => b };
const method = (name: string, requestStream: boolean, responseStream: boolean): grpc.MethodDefinition<Buffer, Buffer> => ({
  path: `/test.Echo/${name}`,
  requestStream,
  responseStream,
  requestSerialize: bytes.serialize,
  requestDeserialize: bytes.deserialize,
  responseSerialize: bytes.serialize,
  responseDeserialize: bytes.deserialize,
  originalName: name.charAt(0).toLowerCase() + name.slice(1),
});
const echoService = {
  Unary: method('Unary', false, false),
  Listen: method('Listen', false, true),
  Chat: method('Chat', true, true),
};

/** The series lines of `name` in a scrape, without HELP/TYPE. */
const linesOf = (text: string, name: string): string[] => text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
const valueOf = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};
const eventually = async (check: () => Promise<boolean>): Promise<void> => {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition not met within 2 s');
};

describe('gRPC server metrics (go-grpc-prometheus names, as etcd exposes them)', () => {
  let server: GrpcHttp2Server;
  let listener: NetServer;
  let client: grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  let registry: Registry;

  beforeEach(async () => {
    const metrics = new GrpcServerMetrics();
    registry = new Registry();
    metrics.register(registry);
    server = new GrpcHttp2Server({
      maxReceiveBytes: 4096,
      keepaliveIntervalMs: 0,
      keepaliveTimeoutMs: 1000,
      instrument: (service, implementation) => metrics.instrument(service, implementation),
    });
    const unaryEcho: UnaryHandler = (call, callback) => {
      if (call.request.toString() === 'missing') callback(toGrpcStatus(EtcdErrors.memberNotFound()));
      else callback(null, call.request);
    };
    const listen: StreamHandler = (call) => {
      call.write(Buffer.from('one'));
      call.end();
    };
    const chat: StreamHandler = (call) => {
      call.on('data', (b: Buffer) => {
        if (b.toString() === 'fail') call.emit('error', toGrpcStatus(EtcdErrors.noLeader()));
        else call.write(b);
      });
    };
    // Implementations keyed by the original (camelCase) name, as some generated code does.
    server.addService(echoService, { unary: unaryEcho, Listen: listen, Chat: chat });
    listener = createServer((socket) => server.injectConnection(socket));
    const port = await new Promise<number>((resolve) => listener.listen(0, '127.0.0.1', () => resolve((listener.address() as { port: number }).port)));
    const Client = grpc.makeGenericClientConstructor(echoService, 'Echo');
    client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as typeof client;
  });

  afterEach(async () => {
    client.close();
    await server.close(1000);
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  });

  const unary = (payload: string): Promise<grpc.ServiceError | null> =>
    new Promise((resolve) => client['unary']!(Buffer.from(payload), (err: grpc.ServiceError | null) => resolve(err)));

  it('shows every method with every code at zero before any call, labels sorted as Go prints them', async () => {
    const text = await registry.metrics();
    expect(text).to.include('# HELP grpc_server_started_total Total number of RPCs started on the server.\n# TYPE grpc_server_started_total counter');
    expect(text).to.include(
      '# HELP grpc_server_handled_total Total number of RPCs completed on the server, regardless of success or failure.\n# TYPE grpc_server_handled_total counter',
    );
    expect(linesOf(text, 'grpc_server_started_total')).to.deep.equal([
      'grpc_server_started_total{grpc_method="Unary",grpc_service="test.Echo",grpc_type="unary"} 0',
      'grpc_server_started_total{grpc_method="Listen",grpc_service="test.Echo",grpc_type="server_stream"} 0',
      'grpc_server_started_total{grpc_method="Chat",grpc_service="test.Echo",grpc_type="bidi_stream"} 0',
    ]);
    // 17 codes for each of 3 methods.
    expect(linesOf(text, 'grpc_server_handled_total')).to.have.length(51);
    expect(text).to.include('grpc_server_handled_total{grpc_code="NotFound",grpc_method="Unary",grpc_service="test.Echo",grpc_type="unary"} 0');
    expect(text).to.include('grpc_server_handling_seconds_bucket{grpc_method="Unary",grpc_service="test.Echo",grpc_type="unary",le="0.005"} 0');
  });

  it('counts unary calls by the code they end with', async () => {
    expect(await unary('a')).to.equal(null);
    expect(await unary('b')).to.equal(null);
    expect((await unary('missing'))?.code).to.equal(grpc.status.NOT_FOUND);
    const text = await registry.metrics();
    const labels = 'grpc_method="Unary",grpc_service="test.Echo",grpc_type="unary"';
    expect(valueOf(text, `grpc_server_started_total{${labels}}`)).to.equal(3);
    expect(valueOf(text, `grpc_server_handled_total{grpc_code="OK",${labels}}`)).to.equal(2);
    expect(valueOf(text, `grpc_server_handled_total{grpc_code="NotFound",${labels}}`)).to.equal(1);
    expect(valueOf(text, `grpc_server_handling_seconds_count{${labels}}`)).to.equal(3);
    expect(valueOf(text, `grpc_server_handling_seconds_bucket{${labels},le="+Inf"}`)).to.equal(3);
  });

  it('counts a server stream as handled OK when it ends', async () => {
    const stream = client['listen']!(Buffer.from('x')) as grpc.ClientReadableStream<Buffer>;
    stream.on('data', () => undefined);
    await new Promise((resolve) => stream.on('status', resolve));
    const labels = 'grpc_method="Listen",grpc_service="test.Echo",grpc_type="server_stream"';
    await eventually(async () => valueOf(await registry.metrics(), `grpc_server_handled_total{grpc_code="OK",${labels}}`) === 1);
    expect(valueOf(await registry.metrics(), `grpc_server_started_total{${labels}}`)).to.equal(1);
  });

  it('counts a bidi stream the client cancels as Canceled, and one the server fails with its code; open streams are started minus handled', async () => {
    const labels = 'grpc_method="Chat",grpc_service="test.Echo",grpc_type="bidi_stream"';
    const open = client['chat']!() as grpc.ClientDuplexStream<Buffer, Buffer>;
    open.on('error', () => undefined);
    open.write(Buffer.from('hi'));
    await new Promise((resolve) => open.once('data', resolve));
    let text = await registry.metrics();
    expect(valueOf(text, `grpc_server_started_total{${labels}}`)).to.equal(1);
    expect(linesOf(text, 'grpc_server_handled_total').filter((l) => l.includes('Chat') && !l.endsWith(' 0'))).to.deep.equal([]);

    open.cancel();
    await eventually(async () => valueOf(await registry.metrics(), `grpc_server_handled_total{grpc_code="Canceled",${labels}}`) === 1);

    const failing = client['chat']!() as grpc.ClientDuplexStream<Buffer, Buffer>;
    const status = new Promise<grpc.StatusObject>((resolve) => failing.on('status', resolve));
    failing.on('error', () => undefined);
    failing.write(Buffer.from('fail'));
    expect((await status).code).to.equal(grpc.status.UNAVAILABLE);
    await eventually(async () => valueOf(await registry.metrics(), `grpc_server_handled_total{grpc_code="Unavailable",${labels}}`) === 1);
    text = await registry.metrics();
    expect(valueOf(text, `grpc_server_started_total{${labels}}`)).to.equal(2);
    expect(valueOf(text, `grpc_server_handled_total{grpc_code="OK",${labels}}`)).to.equal(0);
  });
});

describe('api-grpc plugin: its metrics in the member container', () => {
  const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
  const context = (): PluginContext =>
    pluginContext('/nonexistent', {
      ports: ['api'],
      listenClientUrls: ['http://127.0.0.1:0'],
      limits: { maxRequestBytes: 1572864, maxConcurrentStreams: 4294967295 },
      logger: silent,
    });

  it('binds one collector when listed twice, and both frontends count into it (KV Put as etcdserverpb.KV/Put)', async () => {
    const container = pluginTestContainer({});
    await container.load(plugin.createModule({ listen: '127.0.0.1:0' }, context()));
    await container.load(plugin.createModule({ listen: '127.0.0.1:0' }, context()));
    const collectors = container.getAll<MetricsCollector>(METRICS_COLLECTOR).filter((c) => c instanceof GrpcServerMetrics);
    expect(collectors).to.have.length(1);
    const registry = new Registry();
    collectors[0]!.register(registry);
    const frontends = container.getAll<GrpcFrontend>(API_FRONTEND);
    expect(frontends).to.have.length(2);
    const services = new MapServices();
    const loaded = grpc.loadPackageDefinition(etcdPackageDefinition()) as unknown as {
      etcdserverpb: Record<string, new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client>;
    };
    const clients: RawClient[] = [];
    try {
      for (const frontend of frontends) {
        await frontend.start(services);
        const kv = new RawClient(new loaded.etcdserverpb['KV']!(`127.0.0.1:${frontend.boundAddresses[0]!.port}`, grpc.credentials.createInsecure()));
        clients.push(kv);
        await kv.call('Put', { key: Buffer.from('k'), value: Buffer.from('v') });
      }
      const text = await registry.metrics();
      expect(valueOf(text, 'grpc_server_handled_total{grpc_code="OK",grpc_method="Put",grpc_service="etcdserverpb.KV",grpc_type="unary"}')).to.equal(2);
      expect(valueOf(text, 'grpc_server_started_total{grpc_method="Watch",grpc_service="etcdserverpb.Watch",grpc_type="bidi_stream"}')).to.equal(undefined);
      expect(valueOf(text, 'grpc_server_started_total{grpc_method="MemberList",grpc_service="etcdserverpb.Cluster",grpc_type="unary"}')).to.equal(0);
    } finally {
      for (const client of clients) client.close();
      for (const frontend of frontends) await frontend.stop();
    }
  });
});
