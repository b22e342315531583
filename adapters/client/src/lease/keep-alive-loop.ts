import type { ChannelDuplex, WireMessage } from '../channel/etcd-channel.js';
import type { WireLeaseKeepAliveResponse } from '@cairn/core';
import type { Connection } from '../endpoints/connection.js';
import type { Endpoint } from '../endpoints/endpoint-pool.js';
import { EtcdError, InvalidAuthTokenError, isRetryable, SessionLostError } from '../errors.js';
import type { LeaseLostReason, LeaseState, LostLeaseState } from './lease-state.js';
import type { KeeperStart, LeaseKeeper } from './lease-keeper.js';

const MIN_RENEW_MS = 100;
const RECONNECT_MIN_MS = 50;
const RECONNECT_MAX_MS = 1000;

/**
 * Keeps one lease alive over a LeaseKeepAlive stream: a renewal every ttl/3, each answer moving
 * the expiry to (that renewal's send time + granted TTL). When the endpoint stops answering for
 * ttl/3 or the stream fails, it reconnects (preferring another endpoint) while time remains; when
 * the expiry passes without an acknowledged renewal it reports `lost` (`expired`) by itself.
 */
export class KeepAliveLoop implements LeaseKeeper {
  private current: LeaseState;
  private readonly listeners: ((state: LeaseState) => void)[] = [];
  private readonly controller = new AbortController();
  private resolveLost!: (state: LostLeaseState) => void;
  readonly lost: Promise<LostLeaseState> = new Promise((resolve) => (this.resolveLost = resolve));
  private stream: ChannelDuplex | undefined;
  private endpoint: Endpoint | undefined;
  private token: string | undefined;
  /** Send times of renewals not answered yet, oldest first (the server answers in order). */
  private pending: number[] = [];
  private renewTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectDelay = RECONNECT_MIN_MS;
  private lastError: Error | undefined;

  constructor(
    readonly id: bigint,
    private readonly connection: Connection,
    start: KeeperStart,
    private readonly onFinished: () => void,
  ) {
    const ttl = start.ttl ?? 0;
    const expiresAt = start.expiresAt ?? (ttl > 0 ? Date.now() + ttl * 1000 : Number.POSITIVE_INFINITY);
    this.current = { kind: 'alive', ttl, expiresAt };
    this.armExpiry();
    void this.connect();
  }

  get state(): LeaseState {
    return this.current;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  on(_event: 'state', listener: (state: LeaseState) => void): this {
    this.listeners.push(listener);
    return this;
  }

  close(): void {
    this.lose('closed');
  }

  /** The lease was revoked through this client. */
  revoked(): void {
    this.lose('revoked');
  }

  private isLost(): boolean {
    return this.current.kind === 'lost';
  }

  private get renewIntervalMs(): number {
    const ttl = this.current.kind === 'alive' && this.current.ttl > 0 ? this.current.ttl : 3;
    return Math.max(MIN_RENEW_MS, (ttl * 1000) / 3);
  }

  private async connect(): Promise<void> {
    this.reconnectTimer = undefined;
    const current = this.current;
    if (current.kind === 'lost') return;
    try {
      const opened = await this.connection.openStream((endpoint, options) => endpoint.channel.duplex('Lease', 'LeaseKeepAlive', options), {
        signal: this.controller.signal,
        deadline: Math.min(current.expiresAt, Date.now() + 5000),
      });
      if (this.isLost()) {
        opened.stream.cancel();
        return;
      }
      this.stream = opened.stream;
      this.endpoint = opened.endpoint;
      this.token = opened.token;
      const stream = opened.stream;
      stream.on('data', (message) => this.onResponse(stream, message));
      stream.on('error', (err) => this.onStreamFailure(stream, this.connection.classify(err, opened.endpoint)?.error ?? err));
      stream.on('end', () => this.onStreamFailure(stream, undefined));
      this.renew();
    } catch (err) {
      if (this.isLost()) return;
      this.lastError = err as Error;
      this.scheduleReconnect();
    }
  }

  private renew(): void {
    clearTimeout(this.renewTimer);
    if (this.stream === undefined || this.isLost()) return;
    const now = Date.now();
    // (0.8: timers may fire a little early; a missed check would cost a whole interval.)
    if (this.pending.length > 0 && now - this.pending[0]! >= this.renewIntervalMs * 0.8) {
      // The endpoint stopped answering (paused or cut off): try another while time remains.
      this.lastError = new Error(`no keep-alive answer from ${this.endpoint?.name ?? '?'} for ${now - this.pending[0]!} ms`);
      if (this.endpoint !== undefined) this.connection.pool.markUnhealthy(this.endpoint);
      this.dropStream();
      this.scheduleReconnect(0);
      return;
    }
    this.pending.push(now);
    this.stream.write({ ID: this.id.toString() });
    this.renewTimer = setTimeout(() => this.renew(), this.renewIntervalMs);
  }

  private onResponse(stream: ChannelDuplex, message: WireMessage): void {
    if (stream !== this.stream || this.isLost()) return;
    const response = message as WireLeaseKeepAliveResponse;
    const sentAt = this.pending.shift() ?? Date.now();
    const ttl = Number(response.TTL);
    if (!(ttl > 0)) {
      this.lose('not-found');
      return;
    }
    this.reconnectDelay = RECONNECT_MIN_MS;
    if (this.endpoint !== undefined) this.connection.pool.markHealthy(this.endpoint);
    const previous = this.current;
    const expiresAt = Math.max(previous.kind === 'alive' && Number.isFinite(previous.expiresAt) ? previous.expiresAt : 0, sentAt + ttl * 1000);
    this.current = { kind: 'alive', ttl, expiresAt };
    this.armExpiry();
    this.emit();
  }

  private onStreamFailure(stream: ChannelDuplex, err: Error | undefined): void {
    if (stream !== this.stream || this.isLost()) return;
    this.lastError = err ?? new Error('the LeaseKeepAlive stream ended');
    if (err instanceof InvalidAuthTokenError && this.token !== undefined) void this.connection.auth?.invalidate(this.token);
    else if (this.endpoint !== undefined && (err === undefined || isRetryable(err) || !(err instanceof EtcdError)))
      this.connection.pool.markUnhealthy(this.endpoint);
    this.dropStream();
    this.scheduleReconnect();
  }

  private dropStream(): void {
    clearTimeout(this.renewTimer);
    this.stream?.cancel();
    this.stream = undefined;
    this.pending = [];
  }

  private scheduleReconnect(delay = this.reconnectDelay): void {
    if (this.reconnectTimer !== undefined || this.isLost()) return;
    this.reconnectDelay = Math.min(RECONNECT_MAX_MS, this.reconnectDelay * 2);
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
  }

  private armExpiry(): void {
    clearTimeout(this.expiryTimer);
    if (this.current.kind !== 'alive' || !Number.isFinite(this.current.expiresAt)) return;
    this.expiryTimer = setTimeout(() => this.checkExpiry(), Math.max(0, this.current.expiresAt - Date.now()));
  }

  private checkExpiry(): void {
    if (this.current.kind !== 'alive') return;
    if (Date.now() >= this.current.expiresAt) this.lose('expired', this.lastError);
    else this.armExpiry();
  }

  private lose(reason: LeaseLostReason, error?: Error): void {
    if (this.isLost()) return;
    const state: LostLeaseState = error === undefined ? { kind: 'lost', reason } : { kind: 'lost', reason, error };
    this.current = state;
    clearTimeout(this.expiryTimer);
    clearTimeout(this.reconnectTimer);
    this.dropStream();
    this.controller.abort(new SessionLostError(`lease ${this.id.toString(16)} lost: ${reason}`));
    this.resolveLost(state);
    this.emit();
    this.onFinished();
  }

  private emit(): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(this.current);
      } catch {
        // A listener's failure must not stop the keeper or the other listeners.
      }
    }
  }
}
