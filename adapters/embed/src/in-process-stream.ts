import { GrpcCode } from '@cairn/core';
import { ChannelError, type ChannelStream, type WireMessage } from '@cairn/client';
import { toChannelError } from './channel-errors.js';
import type { WireMethod } from './wire-codec.js';

type Outcome = { readonly kind: 'data'; readonly message: WireMessage } | { readonly kind: 'error'; readonly error: ChannelError } | { readonly kind: 'end' };

/** Responses queued for the client beyond this make `push` ask the server side to wait (a socket's buffer, in messages). */
const HIGH_WATER_MESSAGES = 64;

/**
 * A server stream between a member's service and a client in the same process. The server side
 * pushes responses, each copied through the wire encoding when pushed; the client gets them in
 * order on later turns of the event loop (never inside the call that opened the stream, so its
 * listeners are attached first), then one 'end' or one 'error', and nothing after `cancel()`.
 */
export class InProcessStream implements ChannelStream {
  private readonly dataListeners: ((message: WireMessage) => void)[] = [];
  private readonly errorListeners: ((error: ChannelError) => void)[] = [];
  private readonly endListeners: (() => void)[] = [];
  private readonly closeListeners: (() => void)[] = [];
  private queue: Outcome[] = [];
  private flushing = false;
  private drained: (() => void)[] = [];
  private finished = false;
  private closed = false;
  private cancelled = false;

  constructor(protected readonly method: WireMethod) {}

  on(event: 'data', listener: (message: WireMessage) => void): this;
  on(event: 'error', listener: (error: ChannelError) => void): this;
  on(event: 'end', listener: () => void): this;
  on(event: 'data' | 'error' | 'end', listener: ((message: WireMessage) => void) | ((error: ChannelError) => void) | (() => void)): this {
    if (event === 'data') this.dataListeners.push(listener as (message: WireMessage) => void);
    else if (event === 'error') this.errorListeners.push(listener as (error: ChannelError) => void);
    else this.endListeners.push(listener as () => void);
    return this;
  }

  cancel(): void {
    this.cancelled = true;
    this.queue = [];
    this.close();
  }

  // ---- the server side ----

  /** True once the stream ended, failed or was cancelled: the server side stops writing. */
  get done(): boolean {
    return this.finished;
  }

  /** Queue one response; false when the client has a backlog and the server should wait for `writable()`. */
  push(response: WireMessage): boolean {
    if (this.finished) return true;
    let message: WireMessage;
    try {
      message = this.method.send(response);
    } catch (err) {
      this.fail(new ChannelError(GrpcCode.Internal, `Server message serialization failure: ${(err as Error).message}`));
      return true;
    }
    this.enqueue({ kind: 'data', message });
    return this.queue.length < HIGH_WATER_MESSAGES;
  }

  /** Resolves when the client's backlog is delivered, or the stream is over. */
  writable(): Promise<void> {
    if (this.finished || this.queue.length < HIGH_WATER_MESSAGES) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  /** The server ended the stream cleanly. */
  complete(): void {
    if (this.finished) return;
    this.enqueue({ kind: 'end' });
    this.finished = true;
    this.releaseServer();
  }

  /** The server side failed: the client gets the error as a gRPC status. */
  fail(err: unknown): void {
    if (this.finished) return;
    this.enqueue({ kind: 'error', error: toChannelError(err) });
    this.finished = true;
    this.releaseServer();
  }

  /** Called once when the stream is over for whatever reason (the server side releases what it holds). */
  onClose(listener: () => void): void {
    if (this.closed) queueMicrotask(listener);
    else this.closeListeners.push(listener);
  }

  /** Over at once, nothing more delivered (a cancel from the client). */
  protected close(): void {
    this.finished = true;
    this.releaseServer();
  }

  private releaseServer(): void {
    if (this.closed) return;
    this.closed = true;
    this.resolveDrained();
    for (const listener of this.closeListeners.splice(0)) listener();
  }

  private resolveDrained(): void {
    for (const resolve of this.drained.splice(0)) resolve();
  }

  private enqueue(outcome: Outcome): void {
    this.queue.push(outcome);
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushing = false;
    const batch = this.queue;
    this.queue = [];
    for (const outcome of batch) {
      // A listener may cancel mid-batch: nothing after that is delivered.
      if (this.cancelled) return;
      this.deliver(outcome);
    }
    this.resolveDrained();
  }

  private deliver(outcome: Outcome): void {
    switch (outcome.kind) {
      case 'data':
        for (const listener of [...this.dataListeners]) listener(outcome.message);
        return;
      case 'error':
        for (const listener of [...this.errorListeners]) listener(outcome.error);
        return;
      case 'end':
        for (const listener of [...this.endListeners]) listener();
        return;
    }
  }
}
