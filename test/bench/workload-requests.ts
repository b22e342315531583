import { randomBytes } from 'node:crypto';
import type { BenchOptions } from './bench-options.js';
import { encodeCompareAndPutTxn, encodePutRequest, encodeRangeRequest } from './etcd-request-encoding.js';
import type { KvMethod } from './etcd-kv-channel.js';

export interface BenchRequest {
  readonly method: KvMethod;
  readonly bytes: Buffer;
}

/** Key `index` as `keySize` bytes: its decimal digits, zero-padded (so keys sort by index). */
export function benchKey(index: number, keySize: number): Buffer {
  return Buffer.from(String(index).padStart(keySize, '0'), 'latin1');
}

/** Makes the next request of a workload: a uniformly random key, the same random value bytes. */
export class WorkloadRequests {
  private readonly value: Buffer;

  constructor(private readonly options: BenchOptions) {
    this.value = randomBytes(options.valSize);
  }

  put(index: number): BenchRequest {
    return { method: 'Put', bytes: encodePutRequest(benchKey(index, this.options.keySize), this.value) };
  }

  next(): BenchRequest {
    const key = benchKey(Math.floor(Math.random() * this.options.keySpace), this.options.keySize);
    switch (this.options.workload) {
      case 'put':
        return { method: 'Put', bytes: encodePutRequest(key, this.value) };
      case 'range':
        return { method: 'Range', bytes: encodeRangeRequest(key, false) };
      case 'range-serializable':
        return { method: 'Range', bytes: encodeRangeRequest(key, true) };
      case 'txn':
        return { method: 'Txn', bytes: encodeCompareAndPutTxn(key, this.value) };
      case 'mixed':
        return Math.random() < this.options.readRatio
          ? { method: 'Range', bytes: encodeRangeRequest(key, false) }
          : { method: 'Put', bytes: encodePutRequest(key, this.value) };
      case 'lease-keepalive':
        throw new Error('lease-keepalive sends keep-alives over streams (lease-keepalive-run.ts), not KV requests');
      case 'watch':
        throw new Error('watch drives its own puts and Watch streams (watch-latency-run.ts), not KV requests');
      case 'lock':
        throw new Error('lock calls the Lock service (lock-contention-run.ts), not KV requests');
    }
  }
}
