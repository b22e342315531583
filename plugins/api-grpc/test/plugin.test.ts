import { expect } from 'chai';
import { Container } from 'inversify';
import { API_FRONTEND, type ApiFrontend, type Logger, type PluginContext } from '@cairn/core';
import { freeLoopbackPort, MemoryLogger, pluginContext, pluginTestContainer } from '@cairn/core/testkit';
import plugin, { GrpcFrontend, parseListenAddress } from '../src/index.js';
import { MapServices } from './map-services.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

function context(listenClientUrls: string[]): PluginContext {
  return pluginContext('/nonexistent', {
    ports: ['api'],
    listenClientUrls,
    limits: { maxRequestBytes: 1572864, maxConcurrentStreams: 4294967295 },
    logger: silent,
  });
}

describe('api-grpc plugin', () => {
  it('declares itself as an api provider with an options schema', () => {
    expect(plugin.manifest.name).to.equal('@cairn/api-grpc');
    expect(plugin.manifest.provides).to.deep.equal(['api']);
    expect(plugin.manifest.optionsSchema).to.have.nested.property('properties.listen.type', 'string');
    expect(plugin.manifest.optionsSchema).to.have.nested.property('properties.maxRecvBytes.type', 'integer');
  });

  it('binds one ApiFrontend that serves where the options say', async () => {
    const container = new Container();
    await container.load(plugin.createModule({ listen: '127.0.0.1:0' }, context(['http://localhost:2379'])));
    const frontends = container.getAll<ApiFrontend>(API_FRONTEND);
    expect(frontends).to.have.length(1);
    const frontend = frontends[0] as GrpcFrontend;
    expect(frontend).to.be.instanceOf(GrpcFrontend);
    await frontend.start(new MapServices());
    try {
      expect(frontend.boundAddresses).to.have.length(1);
      expect(frontend.boundAddresses[0]!.host).to.equal('127.0.0.1');
      expect(frontend.boundAddresses[0]!.port).to.be.greaterThan(0);
    } finally {
      await frontend.stop();
    }
    await frontend.stop();
  });

  it('sits beside other API frontends under the multi-bound token', async () => {
    const container = new Container();
    await container.load(plugin.createModule({ listen: '127.0.0.1:0' }, context([])));
    await container.load(plugin.createModule({}, context(['http://127.0.0.1:0'])));
    expect(container.getAll<ApiFrontend>(API_FRONTEND)).to.have.length(2);
  });

  it("resolves API_FRONTEND in a container holding what the core binds: one GrpcFrontend per module, each with its own options, logging through the plugin's logger", async () => {
    const coreLogger = new MemoryLogger();
    const container = pluginTestContainer({ logger: coreLogger });
    const ports = [await freeLoopbackPort(), await freeLoopbackPort()];
    const loggers = [new MemoryLogger(), new MemoryLogger()];
    await container.loadAsync(plugin.createModule({ listen: `127.0.0.1:${ports[0]}` }, { ...context([]), logger: loggers[0]! }));
    await container.loadAsync(plugin.createModule({}, { ...context([`http://127.0.0.1:${ports[1]}`]), logger: loggers[1]! }));
    const frontends = container.getAll<ApiFrontend>(API_FRONTEND) as GrpcFrontend[];
    expect(frontends.map((f) => f.constructor)).to.deep.equal([GrpcFrontend, GrpcFrontend]);
    container.getAll(API_FRONTEND).forEach((again, i) => expect(again).to.equal(frontends[i]));
    try {
      for (const frontend of frontends) await frontend.start(new MapServices());
      expect(frontends.map((f) => f.boundAddresses[0]!.port)).to.deep.equal(ports);
    } finally {
      for (const frontend of frontends) await frontend.stop();
    }
    expect(loggers.map((l) => l.lines().map((line) => line.fields['address']))).to.deep.equal([[`127.0.0.1:${ports[0]}`], [`127.0.0.1:${ports[1]}`]]);
    expect(coreLogger.lines()).to.deep.equal([]);
  });

  it('reads host:port, [v6]:port and client URLs, binding localhost as 127.0.0.1 like etcd', () => {
    expect(parseListenAddress('127.0.0.1:2379')).to.deep.equal({ host: '127.0.0.1', port: 2379 });
    expect(parseListenAddress('http://localhost:2379')).to.deep.equal({ host: '127.0.0.1', port: 2379 });
    expect(parseListenAddress('[::1]:23790')).to.deep.equal({ host: '::1', port: 23790 });
    expect(parseListenAddress(':2379')).to.deep.equal({ host: '0.0.0.0', port: 2379 });
    expect(() => parseListenAddress('localhost')).to.throw('is not host:port');
    expect(() => plugin.createModule({ listen: 'nope' }, context([]))).to.throw('is not host:port');
  });
});
