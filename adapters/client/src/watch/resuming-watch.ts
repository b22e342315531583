import type { WireWatchResponse, WireEvent } from '@cairn/core';
import type { ChannelDuplex, WireMessage } from '../channel/etcd-channel.js';
import { deadlineOf } from '../call-options.js';
import { rangeEndOf, toBuffer, type Bytes } from '../bytes.js';
import type { Connection } from '../endpoints/connection.js';
import type { Endpoint } from '../endpoints/endpoint-pool.js';
import {
  AuthFailedError,
  CompactedError,
  DeadlineExceededError,
  EtcdError,
  etcdErrorFromCancelReason,
  GrpcCode,
  InvalidAuthTokenError,
  isRetryable,
  PermissionDeniedError,
} from '../errors.js';
import { int64, keyValueFromWire } from '../kv/kv-types.js';
import type { Watch, WatchEvent, WatchOptions } from './watch.js';

const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 2000;
const COMPACTED = 'etcdserver: mvcc: required revision has been compacted';

/** gRPC codes that say the request itself is wrong: resuming would fail again. */
const FATAL_CODES = new Set<number>([GrpcCode.InvalidArgument, GrpcCode.PermissionDenied, GrpcCode.Unimplemented]);

/**
 * One watch on its own Watch stream, re-created after any failure (stream error, end, member
 * death, server-side cancel without a reason) on a healthy endpoint from the revision after the
 * last one delivered. Events at or below the last delivered revision are dropped, so a resumed
 * stream never delivers twice; fragments are joined before delivery.
 */
export class ResumingWatch implements Watch {
  readonly ready: Promise<bigint>;
  private resolveReady!: (revision: bigint) => void;
  private rejectReady!: (err: Error) => void;
  private readonly queue: WatchEvent[] = [];
  private waiter: { resolve: (result: IteratorResult<WatchEvent>) => void; reject: (err: unknown) => void } | undefined;
  private failure: unknown;
  private closed = false;
  /** The revision the next delivered event must have at least (0n: "from now", before the first creation). */
  private nextRevision: bigint;
  private created = false;
  private stream: ChannelDuplex | undefined;
  private endpoint: Endpoint | undefined;
  private token: string | undefined;
  private fragments: WireEvent[] = [];
  private retryDelay = RETRY_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private readonly controller = new AbortController();
  private readonly key: Buffer;
  private readonly rangeEnd: Buffer | undefined;

  constructor(
    private readonly connection: Connection,
    key: Bytes,
    private readonly options: WatchOptions,
    private readonly onFinished: () => void,
  ) {
    this.key = toBuffer(key);
    this.rangeEnd = rangeEndOf(key, options);
    this.nextRevision = options.startRevision ?? 0n;
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => undefined);
    const signal = options.signal;
    if (signal !== undefined) {
      if (signal.aborted) {
        this.fail(signal.reason);
        return;
      }
      signal.addEventListener('abort', () => this.fail(signal.reason), { once: true });
    }
    const deadline = deadlineOf(options, undefined);
    if (deadline !== undefined) {
      this.deadlineTimer = setTimeout(
        () => this.fail(new DeadlineExceededError(GrpcCode.DeadlineExceeded, 'context deadline exceeded', '')),
        Math.max(0, deadline - Date.now()),
      );
    }
    void this.connect();
  }

  requestProgress(): void {
    this.stream?.write({ request_union: 'progress_request', progress_request: {} });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.stop();
    this.rejectReady(new Error('the watch was closed before it was created'));
    this.settleWaiter();
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    return {
      next: () => {
        const event = this.queue.shift();
        if (event !== undefined) return Promise.resolve({ value: event, done: false });
        if (this.failure !== undefined) return Promise.reject(this.failure);
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
      },
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  private async connect(): Promise<void> {
    this.retryTimer = undefined;
    if (this.closed) return;
    try {
      const opened = await this.connection.openStream((endpoint, options) => endpoint.channel.duplex('Watch', 'Watch', options), {
        signal: this.controller.signal,
      });
      if (this.closed) {
        opened.stream.cancel();
        return;
      }
      const stream = opened.stream;
      this.stream = stream;
      this.endpoint = opened.endpoint;
      this.token = opened.token;
      this.fragments = [];
      stream.on('data', (message) => this.onResponse(stream, message));
      stream.on('error', (err) => this.onStreamFailure(stream, this.connection.classify(err, opened.endpoint)?.error ?? err));
      stream.on('end', () => this.onStreamFailure(stream, undefined));
      stream.write({
        request_union: 'create_request',
        create_request: {
          key: this.key,
          ...(this.rangeEnd === undefined ? {} : { range_end: this.rangeEnd }),
          start_revision: this.nextRevision.toString(),
          progress_notify: this.options.progressNotify ?? false,
          filters: (this.options.filters ?? []).map((f) => (f === 'noput' ? 0 : 1)),
          prev_kv: this.options.prevKv ?? false,
          watch_id: '0',
          fragment: this.options.fragment ?? false,
        },
      });
    } catch (err) {
      if (this.closed) return;
      if (err instanceof EtcdError && !isRetryable(err) && !(err instanceof InvalidAuthTokenError)) this.fail(err);
      else this.scheduleRetry();
    }
  }

  private onResponse(stream: ChannelDuplex, message: WireMessage): void {
    if (stream !== this.stream || this.closed) return;
    const response = message as WireWatchResponse;
    const endpointName = this.endpoint?.name ?? '';
    if (response.created) {
      this.retryDelay = RETRY_MIN_MS;
      if (this.endpoint !== undefined) this.connection.pool.markHealthy(this.endpoint);
      if (!this.created) {
        this.created = true;
        const headerRevision = int64(response.header?.revision);
        if (this.nextRevision === 0n) this.nextRevision = headerRevision + 1n;
        this.resolveReady(this.nextRevision - 1n);
      }
    }
    const compactRevision = int64(response.compact_revision);
    if (compactRevision !== 0n) {
      this.fail(new CompactedError(GrpcCode.OutOfRange, COMPACTED, endpointName, compactRevision));
      return;
    }
    if (response.canceled) {
      this.onCanceled(stream, response.cancel_reason ?? '', endpointName);
      return;
    }
    if (response.fragment) {
      this.fragments.push(...(response.events ?? []));
      return;
    }
    const events = this.fragments.length === 0 ? (response.events ?? []) : [...this.fragments, ...(response.events ?? [])];
    this.fragments = [];
    if (events.length === 0) {
      if (!response.created) this.onProgressNotification(int64(response.header?.revision));
      return;
    }
    let last = this.nextRevision - 1n;
    for (const wire of events) {
      const kv = keyValueFromWire(wire.kv);
      // Already delivered before a resume: drop.
      if (kv.modRevision < this.nextRevision) continue;
      const event: WatchEvent = { type: wire.type === 1 ? 'delete' : 'put', kv, revision: kv.modRevision };
      if (wire.prev_kv !== undefined && wire.prev_kv !== null) event.prevKv = keyValueFromWire(wire.prev_kv);
      this.deliver(event);
      if (kv.modRevision > last) last = kv.modRevision;
    }
    if (last >= this.nextRevision) this.nextRevision = last + 1n;
  }

  private onProgressNotification(revision: bigint): void {
    // Every event up to `revision` was sent: a resume may start after it.
    if (this.created && revision >= this.nextRevision) this.nextRevision = revision + 1n;
    this.options.onProgress?.(revision);
  }

  private onCanceled(stream: ChannelDuplex, reason: string, endpointName: string): void {
    if (reason === '') {
      this.dropStream();
      this.scheduleRetry();
      return;
    }
    const error = etcdErrorFromCancelReason(reason, endpointName);
    if (error instanceof InvalidAuthTokenError) {
      this.onStreamFailure(stream, error);
      return;
    }
    if (error instanceof CompactedError) {
      this.fail(new CompactedError(GrpcCode.OutOfRange, COMPACTED, endpointName, 0n));
      return;
    }
    this.fail(error);
  }

  private onStreamFailure(stream: ChannelDuplex, err: Error | undefined): void {
    if (stream !== this.stream || this.closed) return;
    if (err instanceof InvalidAuthTokenError) {
      if (this.token !== undefined) void this.connection.auth?.invalidate(this.token);
    } else if (err instanceof PermissionDeniedError || err instanceof AuthFailedError || (err instanceof EtcdError && FATAL_CODES.has(err.code))) {
      this.fail(err);
      return;
    } else if (this.endpoint !== undefined) {
      this.connection.pool.markUnhealthy(this.endpoint);
    }
    this.dropStream();
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer !== undefined) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(RETRY_MAX_MS, this.retryDelay * 2);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }

  private deliver(event: WatchEvent): void {
    if (this.waiter !== undefined) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter.resolve({ value: event, done: false });
    } else {
      this.queue.push(event);
    }
  }

  private fail(err: unknown): void {
    if (this.closed) return;
    this.failure = err;
    this.closed = true;
    this.stop();
    this.rejectReady(err as Error);
    this.settleWaiter();
  }

  private settleWaiter(): void {
    const waiter = this.waiter;
    if (waiter === undefined || this.queue.length > 0) return;
    this.waiter = undefined;
    if (this.failure !== undefined) waiter.reject(this.failure);
    else waiter.resolve({ value: undefined, done: true });
  }

  private dropStream(): void {
    this.stream?.cancel();
    this.stream = undefined;
    this.fragments = [];
  }

  private stop(): void {
    clearTimeout(this.retryTimer);
    clearTimeout(this.deadlineTimer);
    this.dropStream();
    this.controller.abort();
    this.onFinished();
  }
}
