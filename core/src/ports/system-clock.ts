import { injectable } from 'inversify';
import type { Clock, TimerHandle } from './clock.js';

/** The real clock: monotonic time and Node's timers. Timers do not keep the process alive on their own. */
@injectable()
export class SystemClock implements Clock {
  now(): number {
    return performance.now();
  }

  epochMs(): number {
    return Date.now();
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const timer = setTimeout(callback, ms);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  }

  setInterval(callback: () => void, ms: number): TimerHandle {
    const timer = setInterval(callback, ms);
    timer.unref();
    return { cancel: () => clearInterval(timer) };
  }
}
