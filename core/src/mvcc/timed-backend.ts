import type { Backend, BackendOp, BackendRange, BackendReadView, BackendSize } from '../ports/backend.js';
import type { Clock } from '../ports/clock.js';
import type { DiskLatency } from '../ports/disk-latency.js';

/**
 * The Backend as the MVCC store uses it, with each write batch and flush timed (etcd's backend
 * commit histogram), whatever plugin provides the Backend. Everything else passes straight through.
 */
export class TimedBackend implements Backend {
  constructor(
    private readonly backend: Backend,
    private readonly clock: Clock,
    private readonly latency: DiskLatency,
  ) {}

  async write(ops: readonly BackendOp[]): Promise<void> {
    const started = this.clock.now();
    await this.backend.write(ops);
    this.latency.backendCommitted((this.clock.now() - started) / 1000);
  }

  async flush(): Promise<void> {
    const started = this.clock.now();
    await this.backend.flush();
    this.latency.backendCommitted((this.clock.now() - started) / 1000);
  }

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.backend.get(key);
  }

  range(range: BackendRange): AsyncIterable<[Uint8Array, Uint8Array]> {
    return this.backend.range(range);
  }

  readView(): BackendReadView {
    return this.backend.readView();
  }

  size(): Promise<BackendSize> {
    return this.backend.size();
  }

  defragment(): Promise<void> {
    return this.backend.defragment();
  }

  open(): Promise<void> {
    return this.backend.open();
  }

  close(): Promise<void> {
    return this.backend.close();
  }
}
