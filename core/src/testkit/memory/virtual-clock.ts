import type { Clock, TimerHandle } from '../../ports/clock.js';
import type { Deferral } from '../../ports/deferral.js';

interface Timer {
  seq: number;
  at: number;
  readonly callback: () => void;
  /** 0 for a one-shot timer. */
  readonly every: number;
  cancelled: boolean;
}

/** Lets every pending promise continuation run (microtasks drain before a macrotask runs). */
const drainMicrotasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A Clock whose time moves only when told to. Timers fire in time order; timers due at the same
 * instant fire in the order they were scheduled, so a run replays exactly.
 */
export class VirtualClock implements Clock {
  private time: number;
  private seq = 0;
  /** A binary min-heap ordered by (at, seq). */
  private readonly heap: Timer[] = [];

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  /** Virtual time counts from the epoch, so runs replay exactly. */
  epochMs(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    return this.schedule(callback, ms, 0);
  }

  setInterval(callback: () => void, ms: number): TimerHandle {
    return this.schedule(callback, ms, Math.max(1, ms));
  }

  /** Number of timers waiting (cancelled ones may be counted until they reach the front). */
  pending(): number {
    return this.heap.length;
  }

  /** When the next live timer is due, or undefined when none is. */
  nextAt(): number | undefined {
    this.dropCancelled();
    return this.heap.length > 0 ? this.heap[0]!.at : undefined;
  }

  /**
   * Fire the next timer if it is due at or before `limit`, moving time to it. Synchronous: promise
   * continuations it starts run only after the caller yields. Returns false when nothing was due.
   */
  fireNext(limit = Infinity): boolean {
    this.dropCancelled();
    const top = this.heap[0];
    if (top === undefined || top.at > limit) return false;
    this.pop();
    this.time = Math.max(this.time, top.at);
    if (top.every > 0) {
      top.at = this.time + top.every;
      top.seq = this.seq++;
      this.push(top);
    }
    top.callback();
    return true;
  }

  /** Synchronously fire every timer due up to now + ms, then set the time to now + ms. */
  advance(ms: number): void {
    const until = this.time + ms;
    while (this.fireNext(until)) {
      /* fire in order */
    }
    this.time = Math.max(this.time, until);
  }

  /**
   * Run the world until virtual time `until`: fire timers one at a time in order, letting all
   * promise continuations settle after each one, so async code on this clock behaves as it would
   * in real time. Ends with the time set to `until`.
   */
  async runUntil(until: number, stop?: () => boolean): Promise<void> {
    await drainMicrotasks();
    while (!(stop?.() ?? false) && this.fireNext(until)) {
      await drainMicrotasks();
    }
    if (!(stop?.() ?? false)) this.time = Math.max(this.time, until);
  }

  /** runUntil(now + ms). */
  runFor(ms: number, stop?: () => boolean): Promise<void> {
    return this.runUntil(this.time + ms, stop);
  }

  /**
   * Run the world until `promise` settles (code on this clock may wait for virtual timers, such
   * as a simulated disk's sync) and return its outcome. Fails if it has not settled within `ms`.
   */
  async settle<T>(promise: Promise<T>, ms = 60_000): Promise<T> {
    let settled = false;
    const watched = promise.finally(() => {
      settled = true;
    });
    await this.runFor(ms, () => settled);
    if (!settled) throw new Error(`still pending after ${ms} virtual ms`);
    return watched;
  }

  private schedule(callback: () => void, ms: number, every: number): TimerHandle {
    const timer: Timer = { seq: this.seq++, at: this.time + Math.max(0, ms), callback, every, cancelled: false };
    this.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
  }

  private less(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(timer: Timer): void {
    const heap = this.heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private pop(): Timer | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && this.less(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && this.less(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  }
}

/** "Later in this loop turn" on a virtual clock: a timer of 0 ms, so the run stays deterministic. */
export class VirtualClockDeferral implements Deferral {
  constructor(private readonly clock: VirtualClock) {}

  defer(run: () => void): void {
    this.clock.setTimeout(run, 0);
  }
}
