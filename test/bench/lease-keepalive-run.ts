import * as grpc from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import type { BenchOptions } from './bench-options.js';
import type { MeasuredRun } from './load-run.js';
import { RunTally } from './run-tally.js';

/** Leases the workload grants live this long unrenewed: far longer than any run's gap between keep-alives. */
const LEASE_TTL_SEC = 60;
const CONNECT_TIMEOUT_MS = 5000;
const passThrough = (bytes: Buffer): Buffer => bytes;

/** A protobuf message of varint fields (all the Lease requests need), fields in order. */
function encodeVarintFields(fields: readonly (readonly [number, bigint])[]): Buffer {
  const out: number[] = [];
  for (const [field, value] of fields) {
    for (let v = BigInt((field << 3) | 0); ; v >>= 7n) {
      if (v < 0x80n) {
        out.push(Number(v));
        break;
      }
      out.push(Number(v & 0x7fn) | 0x80);
    }
    for (let v = BigInt.asUintN(64, value); ; v >>= 7n) {
      if (v < 0x80n) {
        out.push(Number(v));
        break;
      }
      out.push(Number(v & 0x7fn) | 0x80);
    }
  }
  return Buffer.from(out);
}

/** The varint fields of a response (ID, TTL); length-delimited ones (the header) are skipped. */
function decodeVarintFields(bytes: Buffer): Map<number, bigint> {
  const fields = new Map<number, bigint>();
  let at = 0;
  const varint = (): bigint => {
    let value = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = bytes[at++]!;
      value |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return value;
    }
  };
  while (at < bytes.length) {
    const tag = Number(varint());
    if ((tag & 7) === 0) fields.set(tag >> 3, BigInt.asIntN(64, varint()));
    else if ((tag & 7) === 2) {
      const length = Number(varint());
      at += length;
    } else throw new Error(`unexpected wire type ${tag & 7} in a Lease response`);
  }
  return fields;
}

function unary(client: grpc.Client, method: string, request: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(`/etcdserverpb.Lease/${method}`, passThrough, passThrough, request, (err: grpc.ServiceError | null, response?: Buffer) =>
      err ? reject(err) : resolve(response!),
    );
  });
}

/**
 * The lease-keepalive workload: every client is granted its own lease (not measured) and opens
 * its own LeaseKeepAlive stream on its connection, then sends keep-alives one at a time, the next
 * as soon as the last is answered. Measured: keep-alives answered per second and their latency; a
 * keep-alive answered with TTL 0 (the lease is gone) counts as an error. Leases are revoked after.
 */
export async function measureKeepAlives(options: BenchOptions): Promise<MeasuredRun> {
  const channels = Array.from(
    { length: options.conns },
    (_, i) => new grpc.Client(options.endpoints[i % options.endpoints.length]!, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }),
  );
  const ids: bigint[] = [];
  try {
    await Promise.all(
      channels.map(
        (c) =>
          new Promise<void>((resolve, reject) => {
            c.waitForReady(Date.now() + CONNECT_TIMEOUT_MS, (err) => (err ? reject(err) : resolve()));
          }),
      ),
    );
    for (let i = 0; i < options.clients; i++) {
      const granted = decodeVarintFields(await unary(channels[i % channels.length]!, 'LeaseGrant', encodeVarintFields([[1, BigInt(LEASE_TTL_SEC)]])));
      ids.push(granted.get(2)!);
    }
    const tally = new RunTally(options);
    await Promise.all(
      ids.map(
        (id, i) =>
          new Promise<void>((done) => {
            const stream = channels[i % channels.length]!.makeBidiStreamRequest('/etcdserverpb.Lease/LeaseKeepAlive', passThrough, passThrough);
            const request = encodeVarintFields([[1, id]]);
            let sent = 0;
            const send = (): void => {
              if (!tally.issue()) {
                stream.end();
                return;
              }
              sent = performance.now();
              stream.write(request);
            };
            stream.on('data', (response: Buffer) => {
              if ((decodeVarintFields(response).get(3) ?? 0n) <= 0n) tally.failed(`lease ${id.toString(16)} answered TTL 0`);
              else tally.succeeded(sent);
              send();
            });
            stream.on('error', (err: Error) => {
              tally.failed(err.message);
              done();
            });
            stream.on('end', () => done());
            send();
          }),
      ),
    );
    return tally.result();
  } finally {
    await Promise.all(ids.map((id, i) => unary(channels[i % channels.length]!, 'LeaseRevoke', encodeVarintFields([[1, id]])).catch(() => undefined)));
    for (const c of channels) c.close();
  }
}
