import * as grpc from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import { etcdServiceDefinition, recipeServiceDefinition } from '@cairn/api-grpc';
import type { BenchOptions } from './bench-options.js';
import type { MeasuredRun } from './load-run.js';
import { RunTally } from './run-tally.js';

/** Leases outlive any run; each client holds its own for all its acquisitions. */
const LEASE_TTL_SEC = 60;
const CONNECT_TIMEOUT_MS = 5000;
/** Every client contends for this one lock. */
const LOCK_NAME = Buffer.from('bench-lock');

type Reply = Record<string, unknown>;
type Unary = (request: object, callback: (err: grpc.ServiceError | null, response: Reply) => void) => void;

function call(client: grpc.Client, method: string, request: object): Promise<Reply> {
  const methods = client as unknown as Record<string, Unary>;
  return new Promise((resolve, reject) => methods[method]!.call(client, request, (err, r) => (err !== null ? reject(err) : resolve(r))));
}

/**
 * The lock workload: every client gets its own lease (not measured), then acquires and releases
 * one shared lock through etcd's Lock service (v3lockpb, served by etcd 3.4 and by Cairn), the
 * next Lock as soon as its Unlock is answered. Measured: acquisitions per second, and the latency
 * of Lock + Unlock (including the wait for the other holders). Leases are revoked after.
 */
export async function measureLockContention(options: BenchOptions): Promise<MeasuredRun> {
  const Lock = grpc.makeGenericClientConstructor(recipeServiceDefinition('v3lockpb.Lock'), 'Lock');
  const Lease = grpc.makeGenericClientConstructor(etcdServiceDefinition('Lease'), 'Lease');
  const endpoint = (i: number): string => options.endpoints[i % options.endpoints.length]!;
  const locks = Array.from(
    { length: options.conns },
    (_, i) => new Lock(endpoint(i), grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }),
  );
  const leases = Array.from({ length: options.conns }, (_, i) => new Lease(endpoint(i), grpc.credentials.createInsecure()));
  const ids: string[] = [];
  try {
    await Promise.all(
      locks.map(
        (c) =>
          new Promise<void>((resolve, reject) => {
            c.waitForReady(Date.now() + CONNECT_TIMEOUT_MS, (err) => (err ? reject(err) : resolve()));
          }),
      ),
    );
    for (let i = 0; i < options.clients; i++) ids.push(String((await call(leases[i % leases.length]!, 'LeaseGrant', { TTL: LEASE_TTL_SEC }))['ID']));
    const tally = new RunTally(options);
    await Promise.all(
      ids.map(async (lease, i) => {
        const client = locks[i % locks.length]!;
        while (tally.issue()) {
          const began = performance.now();
          try {
            const held = await call(client, 'Lock', { name: LOCK_NAME, lease });
            await call(client, 'Unlock', { key: held['key'] });
            tally.succeeded(began);
          } catch (err) {
            tally.failed((err as Error).message);
          }
        }
      }),
    );
    return tally.result();
  } finally {
    await Promise.all(ids.map((id, i) => call(leases[i % leases.length]!, 'LeaseRevoke', { ID: id }).catch(() => undefined)));
    for (const c of [...locks, ...leases]) c.close();
  }
}
