import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawEtcdClient } from '../compat/raw-kv-client.js';
import { ProcessCluster, type MemberProcess } from './cluster-processes.js';
import { HTTP2_PREFACE, IdleHttp2Connections, ManyWatchers, noise, peerFrameHeader, peerHelloFrame, rssMiB, silentAfter } from './hostile-clients.js';

/**
 * A running 3-member cluster under hostile and merely numerous peers and clients. The CI form is
 * small (IDLE_CONNECTIONS, WATCH_STREAMS × WATCHES_PER_STREAM); test/bench/hostile-rss.sh measures
 * the full 10,000 connections and 100,000 watchers beside etcd 3.4 (docs/hostile-inputs.md).
 */
const IDLE_CONNECTIONS = 2_000;
const WATCH_STREAMS = 20;
const WATCHES_PER_STREAM = 1_000;
/** The client port's handshake timeout in this test (the default is 10 s). */
const CLIENT_HANDSHAKE_TIMEOUT_MS = 2_000;
/** The transport's read timeout, left at its default: etcd's rafthttp ConnReadTimeout. */
const PEER_READ_TIMEOUT_MS = 5_000;
/** The log interval of RateLimitedWarning. */
const LOG_INTERVAL_MS = 5_000;

interface LogLine {
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** The member's JSON log lines whose message is `msg`. */
function logLines(member: MemberProcess, msg: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const text of member.log().split('\n')) {
    if (!text.startsWith('{')) continue;
    try {
      const line = JSON.parse(text) as LogLine;
      if (line.msg === msg) lines.push(line);
    } catch {
      // a line cut by the log's size bound
    }
  }
  return lines;
}

/** A counter's value in the member's /metrics text, for one `reason`. */
async function metric(member: MemberProcess, name: string, reason: string): Promise<number> {
  const text = await (await fetch(`http://${member.endpoint}/metrics`)).text();
  const match = new RegExp(`^${name}\\{reason="${reason}"\\} (\\d+)`, 'm').exec(text);
  return match === null ? NaN : Number(match[1]);
}

/** Puts through `client` every `everyMs` until stopped; any failure is kept. */
function steadyWrites(client: RawEtcdClient, prefix: string, everyMs = 50): { stop(): Promise<{ ok: number; failures: string[] }> } {
  let running = true;
  let ok = 0;
  const failures: string[] = [];
  const loop = (async (): Promise<void> => {
    for (let i = 0; running; i++) {
      try {
        await client.call('kv', 'Put', { key: Buffer.from(`${prefix}${i % 100}`), value: Buffer.from(String(i)) });
        ok++;
      } catch (err) {
        failures.push((err as Error).message);
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { ok, failures };
    },
  };
}

describe('hostile and unlucky peers and clients against a 3-member cluster', function () {
  this.timeout(120_000);
  let dir: string;
  let cluster: ProcessCluster | undefined;
  let target: MemberProcess;
  let client: RawEtcdClient;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-hostile-'));
    const config = join(dir, 'cairn.json');
    await writeFile(
      config,
      JSON.stringify({ plugins: { api: [{ use: '@cairn/api-grpc', handshakeTimeoutMs: CLIENT_HANDSHAKE_TIMEOUT_MS }, { use: '@cairn/api-http' }] } }),
    );
    cluster = await ProcessCluster.start('cairn', dir, 3, { extraArgs: ['--config-file', config] });
    // The hostile traffic goes to a follower: the member a stranger is most likely to reach.
    const leader = await cluster.leader();
    target = cluster.members.find((m) => m !== leader)!;
    client = new RawEtcdClient(cluster.members.find((m) => m !== target)!.endpoint);
  });
  after(async () => {
    client?.close();
    await cluster?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('peer port: garbage, an oversized frame header, a truncated Hello then silence, another cluster: each closed in bounded time, logged once, the cluster writes on', async () => {
    const peerPort = target.spec.peerPort;
    const rssBefore = await rssMiB(target.pid!);
    const writes = steadyWrites(client, 'hostile/peer/');
    const began = Date.now();
    const [garbage, oversized, truncated, stranger] = await Promise.all([
      Promise.all(Array.from({ length: 50 }, (_, i) => silentAfter(peerPort, [noise(64 * 1024, i + 1)], 20_000))),
      Promise.all(Array.from({ length: 20 }, () => silentAfter(peerPort, [peerFrameHeader(0xfffffff0)], 20_000))),
      Promise.all(Array.from({ length: 20 }, () => silentAfter(peerPort, [peerHelloFrame('c0ffee', 'aaaa', 'bbbb').subarray(0, 20)], 20_000))),
      Promise.all(Array.from({ length: 5 }, () => silentAfter(peerPort, [peerHelloFrame('0ther0c1u5ter000', '1111111111111111', '')], 20_000))),
    ]);
    const elapsed = Date.now() - began;
    const result = await writes.stop();
    const rssAfter = await rssMiB(target.pid!);
    console.log(
      `      peer port: ${garbage.length + oversized.length + truncated.length + stranger.length} hostile connections in ${elapsed} ms; ${result.ok} writes meanwhile; target RSS ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MiB`,
    );

    for (const c of [...garbage, ...oversized]) expect(c.closedAfterMs, 'garbage or an oversized header is refused at once').to.be.a('number').and.below(1_000);
    for (const c of truncated)
      expect(c.closedAfterMs, 'a truncated Hello is dropped after the read timeout').to.be.within(PEER_READ_TIMEOUT_MS - 100, PEER_READ_TIMEOUT_MS + 2_000);
    for (const c of stranger) {
      expect(c.closedAfterMs)
        .to.be.a('number')
        .and.below(PEER_READ_TIMEOUT_MS + 2_000);
      expect(c.answer).to.include('cluster ID mismatch');
    }
    expect(result.failures, 'writes failed during the attack').to.deep.equal([]);
    expect(result.ok).to.be.above(10);
    expect(rssAfter - rssBefore, 'the member buffered what the hostile peers sent').to.be.below(64);

    // Every refusal counted by reason; each kind logged, but at most once per interval however many came.
    expect(await metric(target, 'cairn_network_peer_refused_connections_total', 'handshake_timeout')).to.equal(20);
    expect(await metric(target, 'cairn_network_peer_refused_connections_total', 'handshake_refused')).to.equal(5);
    const oversizedCount = await metric(target, 'cairn_network_peer_refused_connections_total', 'oversized_frame');
    const badFrames = await metric(target, 'cairn_network_peer_refused_connections_total', 'bad_frame');
    expect(oversizedCount + badFrames).to.equal(70);
    const maxLines = Math.ceil(elapsed / LOG_INTERVAL_MS) + 1;
    for (const msg of [
      'dropped a peer connection that announced an oversized frame',
      'dropped a peer connection that sent no handshake in time',
      'refused a peer connection',
    ]) {
      const lines = logLines(target, msg);
      expect(lines.length, msg).to.be.within(1, maxLines);
    }
    expect(String(logLines(target, 'refused a peer connection')[0]!['reason'])).to.match(
      /cluster ID mismatch: member 1111111111111111 is in cluster 0ther0c1u5ter000/,
    );
  });

  it('client port: half an HTTP/2 preface or half an HTTP/1.1 header, then nothing, is closed after the handshake timeout', async () => {
    const port = target.spec.clientPort;
    const own = new RawEtcdClient(target.endpoint);
    const writes = steadyWrites(own, 'hostile/client/');
    const [http2, http1] = await Promise.all([
      Promise.all(Array.from({ length: 20 }, () => silentAfter(port, [HTTP2_PREFACE.subarray(0, 10)], 20_000))),
      Promise.all(Array.from({ length: 20 }, () => silentAfter(port, [Buffer.from('POST /v3/kv/put HTTP/1.1\r\nHost: cairn\r\nContent-Le')], 20_000))),
    ]);
    const result = await writes.stop();
    own.close();
    for (const c of [...http2, ...http1]) expect(c.closedAfterMs).to.be.within(CLIENT_HANDSHAKE_TIMEOUT_MS - 100, CLIENT_HANDSHAKE_TIMEOUT_MS + 2_000);
    for (const c of http1) expect(c.answer).to.match(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(result.failures).to.deep.equal([]);
    expect(await metric(target, 'cairn_client_refused_connections_total', 'handshake_timeout')).to.equal(20);
    expect(await metric(target, 'cairn_client_refused_connections_total', 'headers_timeout')).to.equal(20);
    expect(logLines(target, 'closed a client connection that did not complete its handshake in time').length).to.be.within(1, 2);
    expect(logLines(target, 'closed an HTTP/1 client connection').length).to.be.within(1, 2);
  });

  it(`${IDLE_CONNECTIONS} idle client connections: kept open, the member serves, memory bounded`, async () => {
    const rssBefore = await rssMiB(target.pid!);
    const idle = await IdleHttp2Connections.open(target.spec.clientPort, IDLE_CONNECTIONS);
    try {
      // Past the handshake timeout: an idle client that completed its preface is a client, not a slowloris.
      await new Promise((r) => setTimeout(r, CLIENT_HANDSHAKE_TIMEOUT_MS + 1_000));
      expect(idle.open).to.equal(IDLE_CONNECTIONS);
      const rssWith = await rssMiB(target.pid!);
      const own = new RawEtcdClient(target.endpoint);
      const started = Date.now();
      await own.call('kv', 'Put', { key: Buffer.from('hostile/idle'), value: Buffer.from('served') });
      const got = await own.call('kv', 'Range', { key: Buffer.from('hostile/idle') });
      const servedMs = Date.now() - started;
      own.close();
      expect((got['kvs'] as { value: Buffer }[])[0]!.value.toString()).to.equal('served');
      const perConnectionKiB = ((rssWith - rssBefore) * 1024) / IDLE_CONNECTIONS;
      console.log(
        `      ${IDLE_CONNECTIONS} idle HTTP/2 connections: RSS ${rssBefore.toFixed(0)} → ${rssWith.toFixed(0)} MiB (${perConnectionKiB.toFixed(1)} KiB each); a put and a read took ${servedMs} ms`,
      );
      expect(perConnectionKiB).to.be.below(64);
    } finally {
      idle.close();
    }
  });

  it(`${WATCH_STREAMS * WATCHES_PER_STREAM} watchers over ${WATCH_STREAMS} streams: the member serves and delivers, memory bounded`, async () => {
    const rssBefore = await rssMiB(target.pid!);
    const began = Date.now();
    const watchers = await ManyWatchers.open(target.endpoint, WATCH_STREAMS, WATCHES_PER_STREAM, 'hostile/watch/');
    try {
      const createdMs = Date.now() - began;
      const rssWith = await rssMiB(target.pid!);
      const own = new RawEtcdClient(target.endpoint);
      const started = Date.now();
      await own.call('kv', 'Put', { key: Buffer.from(watchers.keyOf(7, 999)), value: Buffer.from('seen') });
      const event = await watchers.nextEvent(7, 10_000);
      const deliveredMs = Date.now() - started;
      own.close();
      expect(event).to.deep.equal({ key: watchers.keyOf(7, 999), value: 'seen' });
      const count = WATCH_STREAMS * WATCHES_PER_STREAM;
      const perWatcherBytes = ((rssWith - rssBefore) * 1024 * 1024) / count;
      console.log(
        `      ${count} watchers created in ${createdMs} ms: RSS ${rssBefore.toFixed(0)} → ${rssWith.toFixed(0)} MiB (${perWatcherBytes.toFixed(0)} B each); a put reached its watcher in ${deliveredMs} ms`,
      );
      expect(perWatcherBytes).to.be.below(8 * 1024);
    } finally {
      watchers.close();
    }
  });
});
