import { expect } from 'chai';
import { Etcd3 } from 'etcd3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort } from '@cairn/core/testkit';
import { ProcessCluster, type MemberProcess } from '../e2e/cluster-processes.js';
import { curl, metricHeader, metricSum, parseMetrics, type CurlAnswer } from './curl.js';
import { startCairn, startEtcd, type ServerProcess } from './processes.js';
import { RawEtcdClient } from './raw-kv-client.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The metric names issue 14 lists: an etcd dashboard and the etcd-mixin alerts read these. */
const SERVER_METRICS = [
  'etcd_server_has_leader',
  'etcd_server_is_leader',
  'etcd_server_leader_changes_seen_total',
  'etcd_server_proposals_committed_total',
  'etcd_server_proposals_applied_total',
  'etcd_server_proposals_pending',
  'etcd_server_proposals_failed_total',
  'etcd_server_id',
  'etcd_server_is_learner',
  'etcd_server_quota_backend_bytes',
  'etcd_disk_wal_fsync_duration_seconds',
  'etcd_disk_backend_commit_duration_seconds',
  'etcd_mvcc_db_total_size_in_bytes',
  'etcd_mvcc_db_total_size_in_use_in_bytes',
  'etcd_debugging_mvcc_keys_total',
  'etcd_debugging_mvcc_watcher_total',
  'etcd_debugging_mvcc_slow_watcher_total',
  'grpc_server_started_total',
  'grpc_server_handled_total',
  'etcd_server_health_success',
  'etcd_server_health_failures',
];
/** etcd shows these only with peers (a lone etcd has none either). */
const NETWORK_METRICS = [
  'etcd_network_peer_round_trip_time_seconds',
  'etcd_network_peer_sent_bytes_total',
  'etcd_network_peer_received_bytes_total',
  'etcd_network_active_peers',
];
/** prom-client's default process metrics (etcd's Go client has these names too). */
const PROCESS_METRICS = ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_open_fds', 'process_max_fds', 'process_start_time_seconds'];

const url = (endpoint: string, path: string): string => `http://${endpoint}${path}`;
const scrape = async (endpoint: string): Promise<Map<string, number>> => parseMetrics((await curl(url(endpoint, '/metrics'))).body);
const PUT_OK = ['grpc_code="OK"', 'grpc_method="Put"', 'grpc_service="etcdserverpb.KV"', 'grpc_type="unary"'];

async function puts(endpoint: string, count: number, prefix: string): Promise<void> {
  const client = new RawEtcdClient(endpoint);
  try {
    for (let i = 0; i < count; i++) await client.call('kv', 'Put', { key: Buffer.from(`${prefix}${i}`), value: Buffer.from('v') });
  } finally {
    client.close();
  }
}

/** Polls `probe` until it returns an answer `done` accepts, for up to `ms`; returns the last answer. */
async function until(probe: () => Promise<CurlAnswer>, done: (a: CurlAnswer) => boolean, ms = 15_000): Promise<CurlAnswer> {
  const deadline = Date.now() + ms;
  for (;;) {
    const answer = await probe();
    if (done(answer) || Date.now() > deadline) return answer;
    await sleep(100);
  }
}

describe('health, readiness, version and metrics over HTTP, as etcd serves them (real curl)', function () {
  this.timeout(90_000);

  describe('one member, with --listen-metrics-urls', () => {
    let dir: string;
    let cairn: ServerProcess;
    let etcd: ServerProcess | undefined;
    let metricsEndpoint: string;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'cairn-observability-'));
      metricsEndpoint = `127.0.0.1:${await freeLoopbackPort()}`;
      cairn = await startCairn(join(dir, 'cairn.data'), ['--listen-metrics-urls', `http://${metricsEndpoint}`]);
      etcd = await startEtcd(join(dir, 'etcd.data'));
      if (etcd === undefined) console.log('      (no /usr/bin/etcd: compared with expectations only)');
    });
    after(async () => {
      await cairn?.stop();
      await etcd?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('/health: {"health":"true","reason":""} with 200 as etcd 3.5 (3.4 leaves out the reason), also serializable and with an alarm excluded', async () => {
      const answer = await until(
        () => curl(url(cairn.endpoint, '/health')),
        (a) => a.status === 200,
      );
      expect(answer.body).to.equal('{"health":"true","reason":""}');
      expect(answer.headers['content-type']).to.equal('text/plain; charset=utf-8');
      expect(answer.headers['access-control-allow-origin']).to.equal('*');
      expect((await curl(url(cairn.endpoint, '/health?serializable=true'))).body).to.equal('{"health":"true","reason":""}');
      expect((await curl(url(cairn.endpoint, '/health?exclude=NOSPACE&exclude=CORRUPT'))).status).to.equal(200);
      if (etcd !== undefined) {
        const real = await until(
          () => curl(url(etcd!.endpoint, '/health')),
          (a) => a.status === 200,
        );
        expect(real.status).to.equal(answer.status);
        expect(JSON.parse(real.body)).to.have.property('health', 'true');
        expect(real.headers['content-type']).to.equal(answer.headers['content-type']);
      }
      const post = await curl(url(cairn.endpoint, '/health'), ['-X', 'POST']);
      expect([post.status, post.headers['allow'], post.body]).to.deep.equal([405, 'GET', 'Method Not Allowed\n']);
    });

    it("/livez and /readyz: etcd's named checks, ?verbose listing, sub-paths and ?exclude=", async () => {
      expect((await curl(url(cairn.endpoint, '/livez'))).body).to.equal('ok\n');
      expect((await curl(url(cairn.endpoint, '/livez?verbose'))).body).to.equal('[+]serializable_read ok\nok\n');
      const ready = await curl(url(cairn.endpoint, '/readyz?verbose'));
      expect(ready.status).to.equal(200);
      expect(ready.body).to.equal('[+]data_corruption ok\n[+]serializable_read ok\n[+]linearizable_read ok\n[+]non_learner ok\nok\n');
      expect(ready.headers['x-content-type-options']).to.equal('nosniff');
      expect((await curl(url(cairn.endpoint, '/readyz'))).body).to.equal('ok\n');
      expect((await curl(url(cairn.endpoint, '/readyz/linearizable_read'))).body).to.equal('ok\n');
      expect((await curl(url(cairn.endpoint, '/readyz/linearizable_read?verbose'))).body).to.equal('[+]linearizable_read ok\nok\n');
      expect((await curl(url(cairn.endpoint, '/livez/serializable_read?verbose'))).body).to.equal('[+]serializable_read ok\nok\n');
      const excluded = await curl(url(cairn.endpoint, '/readyz?verbose&exclude=linearizable_read&exclude=non_learner&exclude=no_such_check'));
      expect(excluded.body).to.equal('[+]data_corruption ok\n[+]serializable_read ok\nok\n');
      // No such check (a liveness endpoint has no linearizable_read): Go's 404.
      for (const path of ['/readyz/no_such_check', '/livez/linearizable_read']) {
        const missing = await curl(url(cairn.endpoint, path));
        expect([missing.status, missing.body]).to.deep.equal([404, '404 page not found\n']);
      }
    });

    it('/version: the etcd version Cairn reports and the cluster version major.minor.0, as etcd', async () => {
      const answer = await curl(url(cairn.endpoint, '/version'));
      expect(answer.status).to.equal(200);
      expect(answer.headers['content-type']).to.equal('application/json');
      expect(JSON.parse(answer.body)).to.deep.equal({ etcdserver: '3.4.0', etcdcluster: '3.4.0' });
      if (etcd !== undefined) {
        const real = JSON.parse((await curl(url(etcd.endpoint, '/version'))).body) as Record<string, string>;
        expect(Object.keys(real)).to.deep.equal(['etcdserver', 'etcdcluster']);
        expect(real['etcdcluster']).to.match(/^\d+\.\d+\.0$/);
      }
    });

    it("/metrics: every listed name with etcd's TYPE and HELP (side by side with a real etcd 3.4), and the process metrics", async () => {
      await puts(cairn.endpoint, 1, 'header');
      const answer = await curl(url(cairn.endpoint, '/metrics'));
      expect(answer.status).to.equal(200);
      expect(answer.headers['content-type']).to.equal('text/plain; version=0.0.4; charset=utf-8');
      const names = new Set([...parseMetrics(answer.body).keys()].map((s) => s.replace(/\{.*$/, '').replace(/_(bucket|sum|count)$/, '')));
      for (const name of [...SERVER_METRICS, ...PROCESS_METRICS]) expect(names, name).to.include(name);
      if (etcd !== undefined) {
        await puts(etcd.endpoint, 1, 'header');
        await curl(url(etcd.endpoint, '/health'));
        const real = (await curl(url(etcd.endpoint, '/metrics'))).body;
        for (const name of SERVER_METRICS) expect(metricHeader(answer.body, name), name).to.deep.equal(metricHeader(real, name));
        // Label names and values of the same series, as etcd prints them.
        expect(parseMetrics(real).has('grpc_server_handled_total{grpc_code="OK",grpc_method="Put",grpc_service="etcdserverpb.KV",grpc_type="unary"}')).to.equal(
          true,
        );
      }
      expect(
        parseMetrics(answer.body).get('grpc_server_handled_total{grpc_code="OK",grpc_method="Put",grpc_service="etcdserverpb.KV",grpc_type="unary"}'),
      ).to.be.at.least(1);
      expect(answer.body).to.match(/^etcd_server_id\{server_id="[0-9a-f]+"\} 1$/m);
      expect(answer.body).to.include('etcd_disk_wal_fsync_duration_seconds_bucket{le="8.192"}');
    });

    it('metrics move with puts: proposals, gRPC Put OK, WAL fsyncs, backend commits, keys, health checks', async () => {
      const before = await scrape(cairn.endpoint);
      await curl(url(cairn.endpoint, '/health'));
      await puts(cairn.endpoint, 20, 'moving');
      const after = await scrape(cairn.endpoint);
      const grew = (name: string, labels: readonly string[] = [], by = 1): void => {
        expect(metricSum(after, name, labels) - metricSum(before, name, labels), `${name}${labels.join(',')}`).to.be.at.least(by);
      };
      grew('etcd_server_proposals_committed_total', [], 20);
      grew('etcd_server_proposals_applied_total', [], 20);
      grew('grpc_server_started_total', ['grpc_method="Put"'], 20);
      grew('grpc_server_handled_total', PUT_OK, 20);
      grew('etcd_disk_wal_fsync_duration_seconds_count', [], 1);
      grew('etcd_disk_backend_commit_duration_seconds_count', [], 20);
      grew('etcd_debugging_mvcc_keys_total', [], 20);
      grew('etcd_debugging_mvcc_current_revision', [], 20);
      grew('etcd_server_health_success');
      expect(metricSum(after, 'etcd_server_has_leader')).to.equal(1);
      expect(metricSum(after, 'etcd_server_is_leader')).to.equal(1);
      expect(metricSum(after, 'etcd_server_leader_changes_seen_total')).to.be.at.least(1);
      expect(metricSum(after, 'etcd_server_proposals_pending')).to.equal(0);
      expect(metricSum(after, 'etcd_server_proposals_failed_total')).to.equal(0);
      expect(metricSum(after, 'etcd_server_is_learner')).to.equal(0);
      expect(metricSum(after, 'etcd_server_quota_backend_bytes')).to.equal(2 * 1024 ** 3);
      expect(metricSum(after, 'etcd_mvcc_db_total_size_in_bytes')).to.be.greaterThan(0);
      expect(metricSum(after, 'etcd_mvcc_db_total_size_in_use_in_bytes')).to.be.greaterThan(0);
      expect(metricSum(after, 'etcd_debugging_mvcc_watcher_total')).to.equal(0);
      expect(metricSum(after, 'etcd_debugging_mvcc_slow_watcher_total')).to.equal(0);
      expect(metricSum(after, 'process_cpu_seconds_total')).to.be.greaterThan(0);
    });

    it('the watcher gauge counts an open watch', async () => {
      const client = new Etcd3({ hosts: cairn.endpoint });
      try {
        const watcher = await client.watch().key('watched').create();
        const during = await scrape(cairn.endpoint);
        expect(metricSum(during, 'etcd_debugging_mvcc_watcher_total')).to.equal(1);
        expect(metricSum(during, 'grpc_server_started_total', ['grpc_method="Watch"', 'grpc_type="bidi_stream"'])).to.equal(1);
        await watcher.cancel();
      } finally {
        client.close();
      }
    });

    it('--listen-metrics-urls serves /metrics and the health endpoints, and nothing else (/v3 and /version are 404)', async () => {
      const metrics = await curl(url(metricsEndpoint, '/metrics'));
      expect(metrics.status).to.equal(200);
      expect(parseMetrics(metrics.body).has('etcd_server_has_leader')).to.equal(true);
      const health = await curl(url(metricsEndpoint, '/health'));
      expect([health.status, health.body]).to.deep.equal([200, '{"health":"true","reason":""}']);
      // No CORS headers there: etcd's metrics listener has none.
      expect(health.headers['access-control-allow-origin']).to.equal(undefined);
      expect((await curl(url(metricsEndpoint, '/readyz?verbose'))).body).to.include('[+]linearizable_read ok\n');
      expect((await curl(url(metricsEndpoint, '/livez'))).body).to.equal('ok\n');
      for (const [path, args] of [
        ['/v3/kv/range', ['-X', 'POST', '-d', '{"key":"YQ=="}']],
        ['/version', []],
        ['/', []],
      ] as const) {
        const other = await curl(url(metricsEndpoint, path), args);
        expect([other.status, other.body], path).to.deep.equal([404, '404 page not found\n']);
      }
    });
  });

  describe('three members', () => {
    let dir: string;
    let cluster: ProcessCluster;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'cairn-observability-3-'));
      cluster = await ProcessCluster.start('cairn', dir, 3);
      await cluster.leader();
    });
    after(async () => {
      await cluster?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    const endpointOf = (m: MemberProcess): string => m.endpoint;

    it('every member answers /health, /readyz?verbose and /livez as etcd; one leader; the network metrics move', async () => {
      for (const m of cluster.members) {
        const health = await until(
          () => curl(url(endpointOf(m), '/health')),
          (a) => a.status === 200,
        );
        expect(health.body).to.equal('{"health":"true","reason":""}');
        expect((await curl(url(endpointOf(m), '/readyz?verbose'))).body).to.equal(
          '[+]data_corruption ok\n[+]serializable_read ok\n[+]linearizable_read ok\n[+]non_learner ok\nok\n',
        );
        expect((await curl(url(endpointOf(m), '/livez'))).body).to.equal('ok\n');
      }
      const leader = await cluster.leader();
      const before = await Promise.all(cluster.members.map((m) => scrape(endpointOf(m))));
      await puts(leader.endpoint, 30, 'cluster');
      // A follower connects to the other follower within a probe interval (5 s), and probes at once.
      const settled = (m: Map<string, number>): boolean =>
        metricSum(m, 'etcd_network_active_peers') === 2 && metricSum(m, 'etcd_network_peer_round_trip_time_seconds_count') >= 2;
      const deadline = Date.now() + 20_000;
      let after = await Promise.all(cluster.members.map((m) => scrape(endpointOf(m))));
      while (!after.every(settled) && Date.now() < deadline) {
        await sleep(200);
        after = await Promise.all(cluster.members.map((m) => scrape(endpointOf(m))));
      }
      expect(after.map((m) => metricSum(m, 'etcd_server_is_leader')).reduce((a, b) => a + b)).to.equal(1);
      for (let i = 0; i < after.length; i++) {
        const [b, a] = [before[i]!, after[i]!];
        const name = cluster.members[i]!.spec.name;
        expect(metricSum(a, 'etcd_server_has_leader'), name).to.equal(1);
        expect(metricSum(a, 'etcd_network_peer_sent_bytes_total') - metricSum(b, 'etcd_network_peer_sent_bytes_total'), name).to.be.greaterThan(0);
        expect(metricSum(a, 'etcd_network_peer_received_bytes_total') - metricSum(b, 'etcd_network_peer_received_bytes_total'), name).to.be.greaterThan(0);
        expect(metricSum(a, 'etcd_network_active_peers'), name).to.equal(2);
        expect(metricSum(a, 'etcd_network_peer_round_trip_time_seconds_count'), name).to.be.at.least(2);
        expect(metricSum(a, 'etcd_server_proposals_applied_total') - metricSum(b, 'etcd_server_proposals_applied_total'), name).to.be.at.least(30);
        expect(metricSum(a, 'etcd_disk_wal_fsync_duration_seconds_count') - metricSum(b, 'etcd_disk_wal_fsync_duration_seconds_count'), name).to.be.greaterThan(
          0,
        );
        // Labels name members as etcd does: To/From/Remote are the peers' IDs in hex.
        const seriesNames = [...a.keys()];
        expect(seriesNames.filter((s) => s.startsWith('etcd_network_peer_sent_bytes_total{To="'))).to.have.length(2);
        expect(seriesNames.filter((s) => /^etcd_network_active_peers\{Local="[0-9a-f]+",Remote="[0-9a-f]+"\}$/.test(s))).to.have.length(2);
      }
      const atLeader = after[cluster.members.indexOf(leader)]!;
      expect(metricSum(atLeader, 'grpc_server_handled_total', PUT_OK)).to.be.at.least(30);
      for (const name of NETWORK_METRICS)
        expect(
          [...atLeader.keys()].some((s) => s.startsWith(name)),
          name,
        ).to.equal(true);
    });

    it('/health turns 503 with "RAFT NO LEADER" when two of three members are stopped (by PID); /readyz fails its linearizable read; /livez stays ok', async () => {
      const [survivor, ...stopped] = cluster.members;
      for (const m of stopped) await m.stop();
      // Until the survivor's election timeout, it may still think the leader is there: the read then times out (RANGE ERROR).
      const health = await until(
        () => curl(url(endpointOf(survivor!), '/health')),
        (a) => a.body.includes('RAFT NO LEADER'),
        30_000,
      );
      expect(health.status).to.equal(503);
      expect(health.body).to.equal('{"health":"false","reason":"RAFT NO LEADER"}\n');
      expect(health.headers['x-content-type-options']).to.equal('nosniff');
      // A serializable health check needs no leader; it reads locally.
      expect((await curl(url(endpointOf(survivor!), '/health?serializable=true'))).status).to.equal(200);
      const ready = await curl(url(endpointOf(survivor!), '/readyz'));
      expect(ready.status).to.equal(503);
      expect(ready.body).to.match(
        /^\[\+\]data_corruption ok\n\[\+\]serializable_read ok\n\[-\]linearizable_read failed: etcdserver: .+\n\[\+\]non_learner ok\n\n$/,
      );
      const live = await curl(url(endpointOf(survivor!), '/livez?verbose'));
      expect([live.status, live.body]).to.deep.equal([200, '[+]serializable_read ok\nok\n']);
      const metrics = await scrape(endpointOf(survivor!));
      expect(metricSum(metrics, 'etcd_server_has_leader')).to.equal(0);
      expect(metricSum(metrics, 'etcd_server_health_failures')).to.be.at.least(1);
      expect(metricSum(metrics, 'etcd_network_active_peers')).to.equal(0);
    });
  });
});
