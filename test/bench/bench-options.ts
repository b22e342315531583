import { parseArgs } from 'node:util';

export const WORKLOADS = ['put', 'range', 'range-serializable', 'txn', 'mixed', 'lease-keepalive', 'watch', 'lock'] as const;
export type Workload = (typeof WORKLOADS)[number];

export interface BenchOptions {
  readonly endpoints: readonly string[];
  /** gRPC connections in all, spread over the endpoints. */
  readonly conns: number;
  /** Concurrent clients in all, each with one request in flight, spread over the connections. */
  readonly clients: number;
  /** Threads generating load, each with its share of clients and connections. */
  readonly workers: number;
  readonly keySize: number;
  readonly valSize: number;
  /** Keys are chosen uniformly from this many. */
  readonly keySpace: number;
  /** Stop after this many operations... */
  readonly total: number | undefined;
  /** ...or after this many seconds. */
  readonly durationSec: number | undefined;
  readonly workload: Workload;
  /** Share of reads in the mixed workload. */
  readonly readRatio: number;
  /** Keys written before measuring (so reads find data). */
  readonly prefill: number;
  readonly json: boolean;
  /** `--user name:password`: authenticate each connection once and send its token with every call. */
  readonly user?: { readonly name: string; readonly password: string };
  /** `--cacert` (and `--cert`/`--key` for mutual TLS): connect over TLS. */
  readonly tls?: { readonly caFile: string; readonly certFile?: string; readonly keyFile?: string };
}

/** The workloads that honour --user and TLS (the KV ones); the others refuse them rather than ignore them. */
export const SECURE_WORKLOADS: readonly Workload[] = ['put', 'range', 'range-serializable', 'txn', 'mixed'];

export const USAGE = `usage: npm run bench -- [options]

Load generator for the etcd v3 gRPC API (Cairn or etcd alike).

  --endpoints <list>   comma-separated host:port list          (127.0.0.1:2379)
  --conns <n>          gRPC connections in all                  (1)
  --clients <n>        concurrent clients in all                (1)
  --workers <n>        threads generating load (<= clients)     (1)
  --key-size <bytes>   key length                               (8)
  --val-size <bytes>   value length                             (8)
  --key-space <n>      distinct keys, chosen uniformly          (10000)
  --total <n>          operations to run                        (10000 unless --duration)
  --duration <sec>     run for this long instead of --total
  --workload <w>       put | range | range-serializable | txn | mixed   (put)
                       | lease-keepalive (a lease and a LeaseKeepAlive stream per client)
                       | watch (--clients watchers of one key over --conns streams;
                         latency put sent -> event received, per watcher)
                       | lock (--clients contend for one lock: Lock then Unlock
                         through etcd's Lock service, each with its own lease)
  --read-ratio <0..1>  reads in the mixed workload              (0.5)
  --prefill <n>        keys written before measuring            (key-space for range/mixed, else 0)
  --user <name:pw>     authenticate (etcd auth), send the token with every call
  --cacert <file>      connect over TLS, trusting this CA
  --cert <file>        client certificate for mutual TLS (with --key)
  --key <file>         client certificate's key
                       (--user and TLS: KV workloads only)
  --json               print one JSON object instead of text
  --help`;

export class UsageError extends Error {}

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, not "${text}"`);
  return n;
}

function securityOptions(values: { user?: string; cacert?: string; cert?: string; key?: string }): Pick<BenchOptions, 'user' | 'tls'> {
  const out: { user?: BenchOptions['user']; tls?: BenchOptions['tls'] } = {};
  if (values.user !== undefined) {
    const at = values.user.indexOf(':');
    if (at < 1) throw new UsageError('--user must be name:password');
    out.user = { name: values.user.slice(0, at), password: values.user.slice(at + 1) };
  }
  if ((values.cert === undefined) !== (values.key === undefined)) throw new UsageError('give --cert and --key together');
  if (values.cert !== undefined && values.cacert === undefined) throw new UsageError('--cert needs --cacert');
  if (values.cacert !== undefined) {
    out.tls = { caFile: values.cacert, ...(values.cert === undefined ? {} : { certFile: values.cert, keyFile: values.key! }) };
  }
  return out;
}

/** The options from argv, or a UsageError naming what is wrong. `undefined` means --help. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions | undefined {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      endpoints: { type: 'string' },
      conns: { type: 'string' },
      clients: { type: 'string' },
      workers: { type: 'string' },
      'key-size': { type: 'string' },
      'val-size': { type: 'string' },
      'key-space': { type: 'string' },
      total: { type: 'string' },
      duration: { type: 'string' },
      workload: { type: 'string' },
      'read-ratio': { type: 'string' },
      prefill: { type: 'string' },
      json: { type: 'boolean' },
      user: { type: 'string' },
      cacert: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return undefined;
  const workload = (values.workload ?? 'put') as Workload;
  if (!WORKLOADS.includes(workload)) throw new UsageError(`--workload must be one of ${WORKLOADS.join(', ')}, not "${values.workload}"`);
  if (values.total !== undefined && values.duration !== undefined) throw new UsageError('give --total or --duration, not both');
  let durationSec: number | undefined;
  if (values.duration !== undefined) {
    durationSec = Number(values.duration.replace(/s$/, ''));
    if (!(durationSec > 0)) throw new UsageError(`--duration must be a positive number of seconds, not "${values.duration}"`);
  }
  const keySpace = positiveInt('key-space', values['key-space'], 10000);
  const keySize = positiveInt('key-size', values['key-size'], 8);
  if (String(keySpace - 1).length > keySize) throw new UsageError(`--key-size ${keySize} is too short for --key-space ${keySpace}`);
  const readRatio = values['read-ratio'] === undefined ? 0.5 : Number(values['read-ratio']);
  if (!(readRatio >= 0 && readRatio <= 1)) throw new UsageError('--read-ratio must be between 0 and 1');
  const reads = workload === 'range' || workload === 'range-serializable' || workload === 'mixed';
  const prefill = values.prefill === undefined ? (reads ? keySpace : 0) : Number(values.prefill);
  if (!Number.isInteger(prefill) || prefill < 0 || prefill > keySpace) throw new UsageError('--prefill must be an integer from 0 to --key-space');
  const endpoints = (values.endpoints ?? '127.0.0.1:2379')
    .split(',')
    .map((e) => e.trim().replace(/^https?:\/\//, ''))
    .filter((e) => e !== '');
  if (endpoints.length === 0) throw new UsageError('--endpoints is empty');
  const clients = positiveInt('clients', values.clients, 1);
  const workers = positiveInt('workers', values.workers, 1);
  if (workers > clients) throw new UsageError(`--workers ${workers} is more than --clients ${clients}`);
  const secure = securityOptions(values);
  if ((secure.user !== undefined || secure.tls !== undefined) && !SECURE_WORKLOADS.includes(workload)) {
    throw new UsageError(`--user and TLS options apply to ${SECURE_WORKLOADS.join(', ')}, not --workload ${workload}`);
  }
  return {
    ...secure,
    endpoints,
    conns: positiveInt('conns', values.conns, 1),
    clients,
    workers,
    keySize,
    valSize: positiveInt('val-size', values['val-size'], 8),
    keySpace,
    total: durationSec === undefined ? positiveInt('total', values.total, 10000) : undefined,
    durationSec,
    workload,
    readRatio,
    prefill,
    json: values.json ?? false,
  };
}
