/**
 * Riding out a member failure inside a waiting recipe call. The client retries reads on another
 * endpoint by itself, but not writes: a txn whose answer was lost may have been applied. The
 * recipe writes wrapped here are guarded so that applying them twice is the same as once (a
 * create that only succeeds while the key is absent, a delete or put only while the key is the
 * one we created), so the recipe repeats them until an endpoint answers or the call gives up.
 */
import { isRetryable } from '../errors.js';

const FIRST_PAUSE_MS = 50;
const LONGEST_PAUSE_MS = 1_000;

/** `op()`, repeated after a growing pause while it fails with a retryable (endpoint) error. */
export async function repeatOnOutage<T>(signal: AbortSignal, op: () => Promise<T>): Promise<T> {
  let pause = FIRST_PAUSE_MS;
  for (;;) {
    try {
      return await op();
    } catch (err) {
      if (!isRetryable(err) || signal.aborted) throw err;
    }
    await sleepUnlessAborted(pause, signal);
    pause = Math.min(pause * 2, LONGEST_PAUSE_MS);
  }
}

function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
