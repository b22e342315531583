import type { Clock } from '../ports/clock.js';

/** One waiting call; settling it stops its timer. `data` is what the caller attached to it. */
export interface PendingCall<T, D> {
  readonly data: D;
  resolve(value: T): void;
  reject(error: Error): void;
}

/**
 * Calls waiting for an outcome, by key, each with a timeout: whichever comes first of its
 * outcome and its timeout settles it, and it leaves the map. Iteration follows call order.
 */
export class PendingCalls<K, T, D = undefined> {
  private readonly calls = new Map<K, PendingCall<T, D>>();
  /** Calls that failed here (timed out, rejected, or failed all at once) since the start: a metric. */
  failures = 0;

  constructor(private readonly clock: Clock) {}

  /** Wait for the outcome of call `key`; if `timeoutMs` pass first it fails with what `expired()` returns then. */
  wait(key: K, data: D, timeoutMs: number, expired: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        if (this.calls.get(key) !== call) return;
        this.calls.delete(key);
        this.failures++;
        reject(expired());
      }, timeoutMs);
      const call: PendingCall<T, D> = {
        data,
        resolve: (value) => {
          timer.cancel();
          resolve(value);
        },
        reject: (error) => {
          timer.cancel();
          reject(error);
        },
      };
      this.calls.set(key, call);
    });
  }

  /** Calls still waiting. */
  get size(): number {
    return this.calls.size;
  }

  has(key: K): boolean {
    return this.calls.has(key);
  }

  get(key: K): PendingCall<T, D> | undefined {
    return this.calls.get(key);
  }

  /** Remove call `key` and hand it over, to be settled later; its timeout no longer fails it. */
  take(key: K): PendingCall<T, D> | undefined {
    const call = this.calls.get(key);
    if (call !== undefined) this.calls.delete(key);
    return call;
  }

  resolve(key: K, value: T): boolean {
    const call = this.take(key);
    call?.resolve(value);
    return call !== undefined;
  }

  reject(key: K, error: Error): boolean {
    const call = this.take(key);
    if (call === undefined) return false;
    this.failures++;
    call.reject(error);
    return true;
  }

  /** Keys of the calls whose data matches, in call order. */
  keysWhere(matches: (data: D) => boolean): K[] {
    const keys: K[] = [];
    for (const [key, call] of this.calls) if (matches(call.data)) keys.push(key);
    return keys;
  }

  /** Fail every call still waiting, each with an error from `error()`. */
  rejectAll(error: () => Error): void {
    const calls = [...this.calls.values()];
    this.calls.clear();
    this.failures += calls.length;
    for (const call of calls) call.reject(error());
  }
}
