import { expect } from 'chai';
import { GrpcFrontend } from '@cairn/api-grpc';
import { EtcdErrors, type CairnServices, type KvService, type RangeRequest, type ResponseHeader, type TxnRequest } from '@cairn/core';
import { parseBenchOptions, type BenchOptions } from './bench-options.js';
import { runBench } from './load-run.js';

/** Counts the KV calls the generator makes and checks their shape; only KV is needed. */
class CountingServices implements CairnServices {
  readonly identity = { clusterId: '1', memberId: '2', name: 'bench' };
  readonly calls = { range: 0, serializableRange: 0, put: 0, txn: 0 };
  readonly keys = new Set<string>();
  private readonly header: ResponseHeader = { clusterId: 1n, memberId: 2n, revision: 1, raftTerm: 1 };
  readonly kv: KvService = {
    range: async (request: RangeRequest) => {
      if (request.serializable) this.calls.serializableRange++;
      else this.calls.range++;
      return { header: this.header, kvs: [], more: false, count: 0 };
    },
    put: async (request) => {
      if (request.key.length !== 6 || request.value.length !== 10) throw EtcdErrors.emptyKey();
      this.calls.put++;
      this.keys.add(Buffer.from(request.key).toString());
      return { header: this.header };
    },
    deleteRange: async () => ({ header: this.header, deleted: 0, prevKvs: [] }),
    txn: async (request: TxnRequest) => {
      const compare = request.compare[0];
      if (request.compare.length !== 1 || compare === undefined || !('version' in compare) || compare.version !== -1) {
        throw new Error('unexpected txn shape');
      }
      this.calls.txn++;
      return { header: this.header, succeeded: true, responses: [{ responsePut: { header: this.header } }] };
    },
    compact: async () => ({ header: this.header }),
  };
  readonly cluster = undefined as unknown as CairnServices['cluster'];
  readonly maintenance = undefined as unknown as CairnServices['maintenance'];
}

describe('bench load generator', () => {
  let frontend: GrpcFrontend;
  let services: CountingServices;
  let endpoint: string;

  beforeEach(async () => {
    services = new CountingServices();
    frontend = new GrpcFrontend({ listen: [{ host: '127.0.0.1', port: 0 }], maxRequestBytes: 1.5 * 1024 * 1024 });
    await frontend.start(services);
    endpoint = `127.0.0.1:${frontend.boundAddresses[0]!.port}`;
  });
  afterEach(async () => {
    await frontend.stop();
  });

  const options = (...args: string[]): BenchOptions =>
    parseBenchOptions(['--endpoints', endpoint, '--clients', '8', '--conns', '3', '--key-size', '6', '--val-size', '10', '--key-space', '50', ...args])!;

  it('put: runs exactly --total operations spread over the clients', async () => {
    const result = await runBench(options('--total', '200', '--workload', 'put'));
    expect(result).to.deep.include({ ops: 200, errors: 0, clients: 8, conns: 3 });
    expect(services.calls.put).to.equal(200);
    expect([...services.keys].every((k) => /^\d{6}$/.test(k) && Number(k) < 50)).to.equal(true);
    expect(result.latencyMs.p50).to.be.greaterThan(0);
    expect(result.latencyMs.max).to.be.at.least(result.latencyMs.p99);
  });

  it('--workers splits clients, connections and operations over threads and merges their figures', async () => {
    const result = await runBench(options('--total', '201', '--workload', 'put', '--workers', '2'));
    expect(result).to.deep.include({ ops: 201, errors: 0, workers: 2 });
    expect(services.calls.put).to.equal(201);
  });

  it('range and range-serializable: prefill the key space, then read', async () => {
    const linear = await runBench(options('--total', '200', '--workload', 'range'));
    expect(linear).to.deep.include({ ops: 200, errors: 0 });
    expect(linear.prefill.keys).to.equal(50);
    expect(services.calls).to.deep.include({ put: 50, range: 200, serializableRange: 0 });
    expect(services.keys.size).to.equal(50);
    await runBench(options('--total', '200', '--workload', 'range-serializable', '--prefill', '0'));
    expect(services.calls).to.deep.include({ put: 50, serializableRange: 200 });
  });

  it('txn and mixed send their own shapes', async () => {
    await runBench(options('--total', '200', '--workload', 'txn'));
    expect(services.calls.txn).to.equal(200);
    const mixed = await runBench(options('--total', '200', '--workload', 'mixed', '--read-ratio', '1', '--prefill', '0'));
    expect(mixed.ops).to.equal(200);
    expect(services.calls.range).to.equal(200);
  });

  it('counts failed calls as errors with their message', async () => {
    const result = await runBench(options('--total', '200', '--workload', 'put', '--val-size', '3'));
    expect(result.ops).to.equal(0);
    expect(result.errors).to.equal(200);
    expect(result.errorSamples).to.deep.equal(['3 INVALID_ARGUMENT: etcdserver: key is not provided']);
  });

  it('rejects bad options with a message naming the option', () => {
    expect(() => parseBenchOptions(['--workload', 'scan'])).to.throw('--workload must be one of');
    expect(() => parseBenchOptions(['--key-size', '2', '--key-space', '1000'])).to.throw('--key-size 2 is too short');
    expect(() => parseBenchOptions(['--total', '5', '--duration', '5'])).to.throw('not both');
    expect(() => parseBenchOptions(['--workers', '3', '--clients', '2'])).to.throw('--workers 3 is more than --clients 2');
    expect(parseBenchOptions(['--help'])).to.equal(undefined);
  });
});
