/**
 * Fan-out of a stream of items to any number of async iterators, each seeing the items pushed
 * after it subscribed, in order, buffered without bound (a slow reader is never skipped).
 */
export class ChangeFeed<T> {
  private readonly subscribers = new Set<Subscriber<T>>();
  private endedWith: { error?: unknown } | undefined;

  push(item: T): void {
    for (const subscriber of this.subscribers) subscriber.offer(item);
  }

  /** Ends every iterator: normally, or with `error` thrown from its next(). */
  end(error?: unknown): void {
    this.endedWith = error === undefined ? {} : { error };
    for (const subscriber of this.subscribers) subscriber.finish(this.endedWith);
    this.subscribers.clear();
  }

  /** The items pushed from now on; the iteration ends when `signal` aborts (throwing its reason). */
  subscribe(signal?: AbortSignal): AsyncIterableIterator<T> {
    const subscriber = new Subscriber<T>(() => this.subscribers.delete(subscriber));
    if (this.endedWith !== undefined) subscriber.finish(this.endedWith);
    else this.subscribers.add(subscriber);
    if (signal !== undefined) {
      if (signal.aborted) subscriber.finish({ error: signal.reason });
      else signal.addEventListener('abort', () => subscriber.finish({ error: signal.reason }), { once: true });
    }
    return subscriber;
  }
}

class Subscriber<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private waiting: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  private finished: { error?: unknown } | undefined;

  constructor(private readonly detach: () => void) {}

  offer(item: T): void {
    if (this.finished !== undefined) return;
    if (this.waiting !== undefined) {
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting.resolve({ value: item, done: false });
    } else this.items.push(item);
  }

  finish(how: { error?: unknown }): void {
    if (this.finished !== undefined) return;
    this.finished = how;
    this.detach();
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting === undefined) return;
    if ('error' in how) waiting.reject(how.error);
    else waiting.resolve({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.finished !== undefined) {
      if ('error' in this.finished) {
        const error = this.finished.error;
        this.finished = {};
        return Promise.reject(error);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.finish({});
    this.items.length = 0;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
