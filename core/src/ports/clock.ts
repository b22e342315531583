/** A scheduled callback; cancel() is idempotent. */
export interface TimerHandle {
  cancel(): void;
}

/** Time, injected so the simulator can run the whole cluster on a virtual clock. */
export interface Clock {
  /** Milliseconds on a monotonic scale (not wall-clock time). */
  now(): number;
  /** Wall-clock milliseconds since the Unix epoch (for values that must differ across restarts, like lease ID seeds). */
  epochMs(): number;
  /** Run `callback` once after `ms` milliseconds. */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  /** Run `callback` every `ms` milliseconds until cancelled. */
  setInterval(callback: () => void, ms: number): TimerHandle;
}

export const CLOCK = Symbol.for('cairn.port.Clock');
