import { expect } from 'chai';
import { GrpcFrontend } from '@cairn/api-grpc';
import { EtcdErrors, type CairnServices, type LeaseService, type ResponseHeader } from '@cairn/core';
import { parseBenchOptions } from './bench-options.js';
import { runBench } from './load-run.js';

const header: ResponseHeader = { clusterId: 1n, memberId: 2n, revision: 1, raftTerm: 1 };

/** Leases in a Map; counts keep-alives per lease. Only the Lease service is served. */
class LeaseOnlyServices implements CairnServices {
  readonly identity = { clusterId: '1', memberId: '2', name: 'bench' };
  readonly live = new Map<bigint, number>();
  readonly keepAlives = new Map<bigint, number>();
  private next = 0x7fff_ffff_ffff_ff00n;
  readonly lease: LeaseService = {
    grant: async (ttl) => {
      const id = this.next++;
      this.live.set(id, ttl);
      return { header, id, ttl };
    },
    revoke: async (id) => {
      if (!this.live.delete(id)) throw EtcdErrors.leaseNotFound();
      return { header };
    },
    keepAlive: async (id) => {
      this.keepAlives.set(id, (this.keepAlives.get(id) ?? 0) + 1);
      return { header, id, ttl: this.live.get(id) ?? 0 };
    },
    timeToLive: async (id) => ({ header, id, ttl: -1, grantedTtl: 0, keys: [] }),
    leases: async () => ({ header, leases: [...this.live.keys()] }),
  };
  readonly kv = undefined as unknown as CairnServices['kv'];
  readonly cluster = undefined as unknown as CairnServices['cluster'];
  readonly maintenance = undefined as unknown as CairnServices['maintenance'];
}

describe('bench lease-keepalive workload', () => {
  let frontend: GrpcFrontend;
  let services: LeaseOnlyServices;
  let endpoint: string;

  beforeEach(async () => {
    services = new LeaseOnlyServices();
    frontend = new GrpcFrontend({ listen: [{ host: '127.0.0.1', port: 0 }], maxRequestBytes: 1.5 * 1024 * 1024 });
    await frontend.start(services);
    endpoint = `127.0.0.1:${frontend.boundAddresses[0]!.port}`;
  });
  afterEach(async () => {
    await frontend.stop();
  });

  it('grants a lease per client, sends exactly --total keep-alives over their streams, and revokes the leases after', async () => {
    const result = await runBench(
      parseBenchOptions(['--endpoints', endpoint, '--workload', 'lease-keepalive', '--clients', '8', '--conns', '3', '--total', '400'])!,
    );
    expect(result).to.deep.include({ ops: 400, errors: 0, clients: 8 });
    expect(services.keepAlives.size).to.equal(8);
    expect([...services.keepAlives.values()].reduce((a, b) => a + b, 0)).to.equal(400);
    expect(services.live.size).to.equal(0);
    expect(result.latencyMs.p50).to.be.greaterThan(0);
  });

  it('counts a keep-alive answered with TTL 0 (lease gone) as an error', async () => {
    // Every lease vanishes as soon as it is granted.
    const grant = services.lease.grant;
    services.lease.grant = async (ttl, id) => {
      const granted = await grant(ttl, id);
      services.live.delete(granted.id);
      return granted;
    };
    const result = await runBench(parseBenchOptions(['--endpoints', endpoint, '--workload', 'lease-keepalive', '--clients', '2', '--total', '10'])!);
    expect(result).to.deep.include({ ops: 0, errors: 10 });
    expect(result.errorSamples[0]).to.match(/answered TTL 0/);
  });
});
