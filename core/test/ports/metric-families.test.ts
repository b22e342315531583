import { expect } from 'chai';
import { Registry } from 'prom-client';
import { CounterFamily, exponentialBuckets, HistogramFamily, memberIdLabel } from '../../src/ports/metric-families.js';

describe('metric families for hot paths (series bumped as plain numbers, read at scrape)', () => {
  it("a counter family prints etcd's exposition: HELP, TYPE, each series with its labels sorted by name", async () => {
    const family = new CounterFamily<'grpc_type' | 'grpc_method' | 'grpc_code'>({
      name: 'grpc_server_handled_total',
      help: 'Total number of RPCs completed on the server, regardless of success or failure.',
      labelNames: ['grpc_type', 'grpc_method', 'grpc_code'],
    });
    const registry = new Registry();
    family.register(registry);
    const ok = family.of({ grpc_type: 'unary', grpc_method: 'Put', grpc_code: 'OK' });
    family.of({ grpc_type: 'unary', grpc_method: 'Put', grpc_code: 'NotFound' });
    ok.inc();
    ok.value += 2;
    // Asking again is the same series.
    expect(family.of({ grpc_type: 'unary', grpc_method: 'Put', grpc_code: 'OK' })).to.equal(ok);
    expect(await registry.metrics()).to.equal(
      [
        '# HELP grpc_server_handled_total Total number of RPCs completed on the server, regardless of success or failure.',
        '# TYPE grpc_server_handled_total counter',
        'grpc_server_handled_total{grpc_code="OK",grpc_method="Put",grpc_type="unary"} 3',
        'grpc_server_handled_total{grpc_code="NotFound",grpc_method="Put",grpc_type="unary"} 0',
        '',
      ].join('\n'),
    );
    registry.resetMetrics();
    expect(ok.value).to.equal(0);
  });

  it('a histogram family prints cumulative buckets, +Inf, sum and count; values past the last bound count only in +Inf', async () => {
    const family = new HistogramFamily({
      name: 'etcd_disk_wal_fsync_duration_seconds',
      help: 'The latency distributions of fsync called by WAL.',
      buckets: [0.001, 0.002, 0.004],
    });
    const registry = new Registry();
    family.register(registry);
    const series = family.of({});
    for (const seconds of [0.0005, 0.001, 0.003, 9]) series.observe(seconds);
    expect(await registry.metrics()).to.equal(
      [
        '# HELP etcd_disk_wal_fsync_duration_seconds The latency distributions of fsync called by WAL.',
        '# TYPE etcd_disk_wal_fsync_duration_seconds histogram',
        'etcd_disk_wal_fsync_duration_seconds_bucket{le="0.001"} 2',
        'etcd_disk_wal_fsync_duration_seconds_bucket{le="0.002"} 2',
        'etcd_disk_wal_fsync_duration_seconds_bucket{le="0.004"} 3',
        'etcd_disk_wal_fsync_duration_seconds_bucket{le="+Inf"} 4',
        'etcd_disk_wal_fsync_duration_seconds_sum 9.0045',
        'etcd_disk_wal_fsync_duration_seconds_count 4',
        '',
      ].join('\n'),
    );
    expect((await registry.getMetricsAsJSON())[0]!.values).to.have.length(6);
  });

  it('a labelled histogram keeps its labels before le, and each series apart', async () => {
    const family = new HistogramFamily<'To'>({ name: 'rtt', help: 'h', labelNames: ['To'], buckets: [0.1] });
    const registry = new Registry();
    family.register(registry);
    family.of({ To: 'b' }).observe(0.05);
    family.of({ To: 'c' }).observe(0.5);
    const text = await registry.metrics();
    expect(text).to.include('rtt_bucket{To="b",le="0.1"} 1\n');
    expect(text).to.include('rtt_bucket{To="c",le="0.1"} 0\n');
    expect(text).to.include('rtt_count{To="c"} 1\n');
  });

  it("etcd's buckets and member ID labels", () => {
    expect(exponentialBuckets(0.001, 2, 14)).to.deep.equal([0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192]);
    expect(exponentialBuckets(0.0001, 2, 16).at(-1)).to.equal(3.2768);
    expect(memberIdLabel('0a0b0c0d0e0f1011')).to.equal('a0b0c0d0e0f1011');
    expect(memberIdLabel('8e9e05c52164694d')).to.equal('8e9e05c52164694d');
  });

  it('one family registers on several registries (members of one process), each scrape reading the same series', async () => {
    const family = new CounterFamily({ name: 'shared_total', help: 'h' });
    const [one, two] = [new Registry(), new Registry()];
    family.register(one);
    family.register(two);
    family.of({}).inc(5);
    expect(await one.metrics()).to.include('shared_total 5');
    expect(await two.metrics()).to.include('shared_total 5');
  });
});
