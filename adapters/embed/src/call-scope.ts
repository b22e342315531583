import type { ChannelCallOptions } from '@cairn/client';
import { deadlineExceeded } from './channel-errors.js';

/**
 * The life of one call: the server's AbortSignal (what a gRPC frontend's call signal is), aborted
 * when the client's signal aborts, when the deadline passes, or when the call finishes first.
 * `ended` rejects with why the client gave up: the signal's reason, or DEADLINE_EXCEEDED.
 */
export class CallScope {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private rejectEnded: ((reason: unknown) => void) | undefined;
  private readonly onClientAbort: () => void;
  /** Rejects when the client gives up; never resolves. */
  readonly ended: Promise<never>;

  constructor(private readonly options: ChannelCallOptions = {}) {
    this.ended = new Promise<never>((_resolve, reject) => {
      this.rejectEnded = reject;
    });
    // Nobody may be awaiting it when the call finishes first.
    this.ended.catch(() => undefined);
    this.onClientAbort = () => this.giveUp(options.signal?.reason);
    if (options.signal?.aborted === true) this.giveUp(options.signal.reason);
    else options.signal?.addEventListener('abort', this.onClientAbort, { once: true });
    if (options.deadline !== undefined && !this.signal.aborted) {
      const wait = options.deadline - Date.now();
      if (wait <= 0) this.giveUp(deadlineExceeded());
      else this.timer = setTimeout(() => this.giveUp(deadlineExceeded()), wait);
    }
  }

  /** Aborts when the client gives up or the call is over (Lock and Campaign stop waiting). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The call is over: release the timer and the listener, and let the server side stop. */
  finish(): void {
    clearTimeout(this.timer);
    this.options.signal?.removeEventListener('abort', this.onClientAbort);
    if (!this.controller.signal.aborted) this.controller.abort();
  }

  private giveUp(reason: unknown): void {
    if (this.controller.signal.aborted) return;
    this.rejectEnded?.(reason);
    this.finish();
  }
}
