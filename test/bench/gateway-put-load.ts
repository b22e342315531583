import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { LatencyRecorder, summarize, type LatencySummary } from './latency-recorder.js';

/*
 * JSON puts through etcd's v3 gateway (`POST /v3/kv/put`), from concurrent HTTP/1.1 keep-alive
 * clients, one request in flight each: the same load for Cairn's gateway and etcd 3.4's. A
 * benchmark measures; it is not a test.
 *
 *   node test/dist/bench/gateway-put-load.js --endpoint 127.0.0.1:2379 --clients 64 --duration 10
 */

export interface GatewayPutLoadOptions {
  readonly endpoint: string;
  readonly clients: number;
  readonly durationSec: number;
  /** Unmeasured seconds first: connections opened, the server's code warm. */
  readonly warmupSec: number;
  readonly keySize: number;
  readonly valSize: number;
  readonly keySpace: number;
}

export interface GatewayPutLoadResult {
  readonly endpoint: string;
  readonly clients: number;
  readonly ops: number;
  readonly elapsedSec: number;
  readonly opsPerSec: number;
  readonly latencyMs: LatencySummary;
  readonly errors: number;
  readonly errorSamples: readonly string[];
  /** The generator's own CPU while measuring: near 100% of one core, it is the bottleneck. */
  readonly cpuPercentOfOneCore: number;
}

interface Answer {
  readonly status: number;
  readonly body: string;
}

function post(agent: Agent, host: string, port: number, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host, port, method: 'POST', path: '/v3/kv/put', headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function runGatewayPutLoad(options: GatewayPutLoadOptions): Promise<GatewayPutLoadResult> {
  const [host, portText] = options.endpoint.split(':');
  const port = Number(portText);
  const agent = new Agent({ keepAlive: true, maxSockets: options.clients });
  const value = randomBytes(options.valSize).toString('base64');
  const key = (): string => Buffer.from(String(Math.floor(Math.random() * options.keySpace)).padStart(options.keySize, '0')).toString('base64');
  const latencies = new LatencyRecorder();
  const errorSamples: string[] = [];
  let errors = 0;
  let measuring = false;
  let stopAt = Date.now() + options.warmupSec * 1000;

  const client = async (): Promise<void> => {
    while (Date.now() < stopAt) {
      const started = process.hrtime.bigint();
      let failure: string | undefined;
      try {
        const answer = await post(agent, host!, port, `{"key":"${key()}","value":"${value}"}`);
        if (answer.status !== 200) failure = `${answer.status} ${answer.body.slice(0, 200)}`;
      } catch (err) {
        failure = (err as Error).message;
      }
      if (!measuring) continue;
      if (failure === undefined) latencies.record(Number(process.hrtime.bigint() - started) / 1e6);
      else if (++errors <= 3) errorSamples.push(failure);
    }
  };

  // Warm-up, then the measured phase, with the same clients and connections.
  await Promise.all(Array.from({ length: options.clients }, client));
  measuring = true;
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  stopAt = Date.now() + options.durationSec * 1000;
  await Promise.all(Array.from({ length: options.clients }, client));
  const elapsedSec = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  agent.destroy();
  return {
    endpoint: options.endpoint,
    clients: options.clients,
    ops: latencies.count,
    elapsedSec,
    opsPerSec: latencies.count / elapsedSec,
    latencyMs: summarize(latencies.sorted()),
    errors,
    errorSamples,
    cpuPercentOfOneCore: ((cpu.user + cpu.system) / 1000 / (elapsedSec * 1000)) * 100,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      endpoint: { type: 'string', default: '127.0.0.1:2379' },
      clients: { type: 'string', default: '64' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '1' },
      'key-size': { type: 'string', default: '8' },
      'val-size': { type: 'string', default: '8' },
      'key-space': { type: 'string', default: '10000' },
      json: { type: 'boolean', default: false },
    },
  });
  const result = await runGatewayPutLoad({
    endpoint: values.endpoint,
    clients: Number(values.clients),
    durationSec: Number(values.duration),
    warmupSec: Number(values.warmup),
    keySize: Number(values['key-size']),
    valSize: Number(values['val-size']),
    keySpace: Number(values['key-space']),
  });
  if (values.json) {
    console.log(JSON.stringify(result));
  } else {
    const l = result.latencyMs;
    console.log(`gateway put: ${result.clients} HTTP/1.1 keep-alive clients to ${result.endpoint}`);
    console.log(`ops:      ${result.ops} in ${result.elapsedSec.toFixed(2)} s = ${result.opsPerSec.toFixed(0)} ops/s`);
    console.log(`latency:  p50 ${l.p50.toFixed(3)} ms  p90 ${l.p90.toFixed(3)} ms  p99 ${l.p99.toFixed(3)} ms  max ${l.max.toFixed(3)} ms`);
    console.log(`errors:   ${result.errors}${result.errorSamples.length > 0 ? ` (${result.errorSamples.join(' | ')})` : ''}`);
    console.log(`bench cpu: ${result.cpuPercentOfOneCore.toFixed(0)}% of one core`);
  }
  process.exitCode = result.errors > 0 ? 1 : 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
