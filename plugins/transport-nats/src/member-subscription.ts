import type { Logger } from '@cairn/core';
import type { NatsClient, NatsInbound, NatsSubscriptionHandle } from './nats-client.js';
import type { NatsTransportStats } from './nats-transport-stats.js';

export interface ResubscribeBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

/**
 * The member's subscriptions to its own subjects, kept alive. The client restores them after a
 * reconnect, but not after the server closed them: a permissions reload that denies the subject
 * ends a subscription for good, and it stays dead even once the permission is back. So a
 * subscription that ends while the transport runs is made again, with backoff, until it holds.
 */
export class MemberSubscription {
  private readonly handles = new Map<string, NatsSubscriptionHandle>();
  private readonly retries = new Map<string, NodeJS.Timeout>();
  private readonly delays = new Map<string, number>();
  private client: NatsClient | undefined;
  private stopped = false;

  constructor(
    private readonly subjects: readonly string[],
    private readonly onMessage: (message: NatsInbound) => void,
    private readonly backoff: ResubscribeBackoff,
    private readonly logger: Logger,
    private readonly stats: NatsTransportStats,
  ) {}

  /** Subscribe on `client` (a new connection): the old connection's subscriptions went with it. */
  attach(client: NatsClient): void {
    if (this.stopped) return;
    this.client = client;
    for (const timer of this.retries.values()) clearTimeout(timer);
    this.retries.clear();
    for (const subject of this.subjects) this.subscribe(subject);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.retries.values()) clearTimeout(timer);
    this.retries.clear();
    for (const handle of this.handles.values()) handle.unsubscribe();
    this.handles.clear();
  }

  private subscribe(subject: string): void {
    const client = this.client;
    if (client === undefined || this.stopped) return;
    let handle: NatsSubscriptionHandle;
    try {
      handle = client.subscribe(subject, this.onMessage, (detail) =>
        this.logger.error({ subject, error: detail }, 'the NATS server closed the member subscription'),
      );
    } catch (err) {
      this.logger.warn({ subject, error: (err as Error).message }, 'cannot subscribe to the member subject yet');
      this.scheduleResubscribe(subject, client);
      return;
    }
    this.handles.set(subject, handle);
    void handle.closed.then(() => {
      if (this.stopped || this.handles.get(subject) !== handle) return;
      this.handles.delete(subject);
      // A connection that closed for good is replaced by a new one, which attaches again.
      this.scheduleResubscribe(subject, client);
    });
  }

  private scheduleResubscribe(subject: string, client: NatsClient): void {
    if (this.stopped || client !== this.client || client.isClosed() || this.retries.has(subject)) return;
    const delay = this.delays.get(subject) ?? this.backoff.initialMs;
    this.delays.set(subject, Math.min(this.backoff.maxMs, delay * 2));
    const timer = setTimeout(() => {
      this.retries.delete(subject);
      if (this.stopped || client !== this.client) return;
      this.stats.resubscribes++;
      this.logger.warn({ subject, afterMs: Math.round(delay) }, 'subscribing to the member subject again');
      this.subscribe(subject);
      // Reset the backoff once the new subscription has lived a while.
      const check = setTimeout(() => {
        if (this.handles.has(subject)) this.delays.delete(subject);
      }, 4 * this.backoff.maxMs);
      check.unref();
    }, delay);
    timer.unref();
    this.retries.set(subject, timer);
  }
}
