/**
 * Memory and behaviour of one member under many idle clients, many watchers and slowloris clients,
 * Cairn beside a real etcd 3.4 on the same machine, one after the other (started by the compat
 * helpers, stopped by PID). Writes docs/hostile-inputs.md (generated). Run through hostile-rss.sh,
 * which raises the file-descriptor limit first:
 *
 *   node test/dist/bench/hostile-rss.js --connections 10000 --streams 100 --per-stream 1000 --out docs/hostile-inputs.md
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawEtcdClient } from '../compat/raw-kv-client.js';
import { startCairn, startEtcd, type ServerProcess } from '../compat/processes.js';
import { HTTP2_PREFACE, IdleHttp2Connections, ManyWatchers, rssMiB, silentAfter, type RawOutcome } from '../e2e/hostile-clients.js';

interface Options {
  readonly connections: number;
  readonly streams: number;
  readonly perStream: number;
  /** How long a slowloris connection is watched before it counts as kept open. */
  readonly slowlorisWaitMs: number;
  /** How long idle connections are held before they are counted (past Cairn's 10 s handshake timeout). */
  readonly idleHoldMs: number;
  readonly out: string | undefined;
  readonly notes: string;
}

interface Figures {
  readonly server: string;
  readonly rssStart: number;
  readonly rssIdle: number;
  readonly idleOpen: number;
  readonly idleServedMs: number;
  readonly rssAfterIdle: number;
  readonly watchersCreatedMs: number;
  readonly rssWatchers: number;
  readonly watchDeliveredMs: number;
  readonly putWithWatchersMs: number;
  readonly rssAfterWatchers: number;
  readonly http2Slowloris: readonly RawOutcome[];
  readonly http1Slowloris: readonly RawOutcome[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Puts (each to a watched key) whose latency is measured with the watchers in place. */
const ROUNDS = 7;
const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function parseOptions(argv: readonly string[]): Options {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i]!, argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    values.set(flag.replace(/^--/, ''), value);
  }
  return {
    connections: Number(values.get('connections') ?? '10000'),
    streams: Number(values.get('streams') ?? '100'),
    perStream: Number(values.get('per-stream') ?? '1000'),
    slowlorisWaitMs: Number(values.get('slowloris-wait') ?? '15') * 1000,
    idleHoldMs: Number(values.get('idle-hold') ?? '11') * 1000,
    out: values.get('out'),
    notes: values.get('notes') ?? '',
  };
}

/** A put then a linearizable read of the same key; milliseconds. */
async function putAndRead(client: RawEtcdClient, key: string): Promise<number> {
  const started = performance.now();
  await client.call('kv', 'Put', { key: Buffer.from(key), value: Buffer.from('v') });
  await client.call('kv', 'Range', { key: Buffer.from(key) });
  return performance.now() - started;
}

async function measure(label: string, server: ServerProcess, options: Options): Promise<Figures> {
  const pid = server.pid;
  const port = Number(server.endpoint.split(':')[1]);
  const client = new RawEtcdClient(server.endpoint);
  await putAndRead(client, 'warm-up');
  await sleep(1_000);
  const rssStart = await rssMiB(pid);
  log(`${label}: RSS at start ${rssStart.toFixed(1)} MiB; opening ${options.connections} idle HTTP/2 connections`);

  const idle = await IdleHttp2Connections.open(port, options.connections);
  await sleep(options.idleHoldMs);
  const rssIdle = await rssMiB(pid);
  const idleOpen = idle.open;
  const idleServedMs = await putAndRead(client, 'with-idle');
  idle.close();
  await sleep(2_000);
  const rssAfterIdle = await rssMiB(pid);
  log(`${label}: RSS with them ${rssIdle.toFixed(1)} MiB (${idleOpen} still open), after they closed ${rssAfterIdle.toFixed(1)} MiB`);

  const began = performance.now();
  const watchers = await ManyWatchers.open(server.endpoint, options.streams, options.perStream, 'rss/watch/');
  const watchersCreatedMs = performance.now() - began;
  await sleep(1_000);
  const rssWatchers = await rssMiB(pid);
  // The median of a few rounds: one put to a watched key, answered, then its event delivered.
  const putTimes: number[] = [];
  const deliveryTimes: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const stream = (round * 37) % options.streams;
    const putStarted = performance.now();
    await client.call('kv', 'Put', { key: Buffer.from(watchers.keyOf(stream, (round * 101) % options.perStream)), value: Buffer.from('seen') });
    putTimes.push(performance.now() - putStarted);
    await watchers.nextEvent(stream, 30_000);
    deliveryTimes.push(performance.now() - putStarted);
  }
  const putWithWatchersMs = median(putTimes);
  const watchDeliveredMs = median(deliveryTimes);
  watchers.close();
  await sleep(2_000);
  const rssAfterWatchers = await rssMiB(pid);
  log(
    `${label}: ${options.streams * options.perStream} watchers in ${watchersCreatedMs.toFixed(0)} ms, RSS ${rssWatchers.toFixed(1)} MiB, after ${rssAfterWatchers.toFixed(1)} MiB`,
  );

  log(`${label}: slowloris clients, watched for ${options.slowlorisWaitMs / 1000} s`);
  const [http2Slowloris, http1Slowloris] = await Promise.all([
    Promise.all(Array.from({ length: 20 }, () => silentAfter(port, [HTTP2_PREFACE.subarray(0, 10)], options.slowlorisWaitMs))),
    Promise.all(
      Array.from({ length: 20 }, () => silentAfter(port, [Buffer.from('POST /v3/kv/put HTTP/1.1\r\nHost: x\r\nContent-Le')], options.slowlorisWaitMs)),
    ),
  ]);
  client.close();
  return {
    server: label,
    rssStart,
    rssIdle,
    idleOpen,
    idleServedMs,
    rssAfterIdle,
    watchersCreatedMs,
    rssWatchers,
    watchDeliveredMs,
    putWithWatchersMs,
    rssAfterWatchers,
    http2Slowloris,
    http1Slowloris,
  };
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

const mib = (n: number): string => `${n.toFixed(0)} MiB`;
const ms = (n: number): string => (n >= 1000 ? `${(n / 1000).toFixed(1)} s` : `${n.toFixed(0)} ms`);

/** The median close time of slowloris connections, or how many the server still held at the end. */
function slowlorisCell(outcomes: readonly RawOutcome[], waitedMs: number): string {
  const closed = outcomes.map((o) => o.closedAfterMs).filter((t): t is number => t !== undefined);
  const kept = outcomes.length - closed.length;
  if (closed.length === 0) return `all ${outcomes.length} still open after ${ms(waitedMs)}`;
  const sorted = [...closed].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return `closed after ${ms(median)} (median)${kept > 0 ? `; ${kept} still open after ${ms(waitedMs)}` : ''}`;
}

function report(figures: readonly Figures[], options: Options): string {
  const watcherCount = options.streams * options.perStream;
  const rows: [string, (f: Figures) => string][] = [
    ['RSS at start (one member, empty store)', (f) => mib(f.rssStart)],
    [`RSS with ${options.connections.toLocaleString('en')} idle HTTP/2 connections`, (f) => mib(f.rssIdle)],
    ['… per connection', (f) => `${(((f.rssIdle - f.rssStart) * 1024) / options.connections).toFixed(1)} KiB`],
    [`… still open after ${ms(options.idleHoldMs)}`, (f) => f.idleOpen.toLocaleString('en')],
    ['… a put and a linearizable read meanwhile', (f) => ms(f.idleServedMs)],
    ['RSS 2 s after they closed', (f) => mib(f.rssAfterIdle)],
    [`${watcherCount.toLocaleString('en')} watchers (${options.streams} streams × ${options.perStream}) created in`, (f) => ms(f.watchersCreatedMs)],
    [`RSS with ${watcherCount.toLocaleString('en')} watchers`, (f) => mib(f.rssWatchers)],
    ['… per watcher', (f) => `${(((f.rssWatchers - f.rssAfterIdle) * 1024 * 1024) / watcherCount).toFixed(0)} B`],
    [`… a put to a watched key answered in (median of ${ROUNDS})`, (f) => ms(f.putWithWatchersMs)],
    ['… its event reached its watcher in (median)', (f) => ms(f.watchDeliveredMs)],
    ['RSS 2 s after the watch streams closed', (f) => mib(f.rssAfterWatchers)],
    ['20 clients sending half an HTTP/2 preface, then nothing', (f) => slowlorisCell(f.http2Slowloris, options.slowlorisWaitMs)],
    ['20 clients sending half an HTTP/1.1 header, then nothing', (f) => slowlorisCell(f.http1Slowloris, options.slowlorisWaitMs)],
  ];
  const lines = [
    '# Hostile and numerous clients: memory and behaviour beside etcd 3.4',
    '',
    '<!-- Generated by test/bench/hostile-rss.sh (test/bench/hostile-rss.ts); do not edit by hand. -->',
    '',
    `${options.notes}`,
    '',
    'One member of each server on loopback, measured one after the other on the same machine (other',
    'work may have run on it at the same time: compare memory more than times). RSS is',
    '`VmRSS` from `/proc/<pid>/status`. Idle connections are raw sockets that send the HTTP/2 preface',
    "and an empty SETTINGS frame, acknowledge the server's SETTINGS and then say nothing (an idle gRPC",
    'client). Watchers are etcd Watch streams over grpc-js, each watch on its own key.',
    '',
    `| | ${figures.map((f) => f.server).join(' | ')} |`,
    `|---|${figures.map(() => '---').join('|')}|`,
    ...rows.map(([name, cell]) => `| ${name} | ${figures.map(cell).join(' | ')} |`),
    '',
    '## Limits on the client port and the peer port',
    '',
    "| limit | default | etcd's |",
    '|---|---|---|',
    '| client connection must finish its TLS handshake, HTTP/2 preface + first frame, or HTTP/1 headers (`@cairn/api-grpc` `handshakeTimeoutMs`) | 10 s | none in 3.4 (Go servers behind cmux; grpc-go: 120 s for the preface) |',
    '| idle HTTP/2 connection pinged (`keepaliveIntervalMs`), closed if the ping is unanswered (`keepaliveTimeoutMs`) | 2 h, 20 s | `--grpc-keepalive-interval` 2 h, `--grpc-keepalive-timeout` 20 s |',
    '| concurrent streams per HTTP/2 connection | unlimited (Node: 2³²−1) | `--max-concurrent-streams` 2³²−1 |',
    '| a client pinging too often: GOAWAY `ENHANCE_YOUR_CALM` "too_many_pings" at the third ping sooner than `keepaliveMinTimeMs` after the one before (2 h while no call is open) | 5 s | `--grpc-keepalive-min-time` 5 s (grpc-go\'s enforcement) |',
    '| largest gRPC message | `--max-request-bytes` + 512 KiB | the same |',
    '| peer connection must send its Hello; silence inside a frame (`@cairn/transport-tcp` `readTimeoutMs`) | 5 s | rafthttp `ConnReadTimeout` 5 s |',
    '| peer that reads nothing (`writeTimeoutMs`) | 5 s | rafthttp `ConnWriteTimeout` 5 s |',
    '| largest frame before the Hello / after it (`maxFrameBytes`) | 16 KiB / 64 MiB | rafthttp: 512 MiB per message |',
    '| messages queued per peer (`queueSize`, `queueBytes`) | 4096 and 32 MiB | 4096 messages (stream buffer) |',
    '| queue of an unreachable peer released (`releaseQueueAfterMs`) | after 5 s down, at every failed attempt | dropped at once while the stream is down |',
    '',
    'Refusals are counted in `cairn_client_refused_connections_total{reason}` and',
    '`cairn_network_peer_refused_connections_total{reason}` (etcd has no such metrics) and logged at',
    'most once per 5 s per kind, with the number suppressed since the last line.',
    '',
    'The peer-port cases (garbage, an oversized frame header, a truncated Hello, a Hello of another',
    'cluster) run against a 3-member cluster in `test/e2e/hostile-inputs.test.ts`, which also runs a',
    'smaller form of the figures above in CI.',
    '',
  ];
  return lines.join('\n');
}

const options = parseOptions(process.argv.slice(2));
const dir = await mkdtemp(join(tmpdir(), 'cairn-hostile-rss-'));
const figures: Figures[] = [];
try {
  const cairn = await startCairn(join(dir, 'cairn'));
  try {
    figures.push(await measure('Cairn', cairn, options));
  } finally {
    await cairn.stop();
  }
  const etcd = await startEtcd(join(dir, 'etcd'));
  if (etcd === undefined) log('no /usr/bin/etcd: Cairn alone');
  else {
    try {
      figures.push(await measure('etcd 3.4', etcd, options));
    } finally {
      await etcd.stop();
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
const text = report(figures, options);
if (options.out === undefined) process.stdout.write(text);
else {
  await writeFile(options.out, text);
  log(`wrote ${options.out}`);
}
