import type { Logger } from '@cairn/core';
import { connectNats, type NatsClient, type NatsClientOptions, type NatsConnectionEvent } from './nats-client.js';
import type { NatsTransportStats } from './nats-transport-stats.js';

/** Where the member's NATS connection stands. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface NatsConnectionListener {
  /** A new connection (the first, or one made after the client gave up): subscribe on it. */
  connected(client: NatsClient): void;
  /** The client reconnected by itself (its subscriptions came back with it): send what waited. */
  reconnected(client: NatsClient): void;
}

/** Credentials the server refused: retrying with the same ones will not help, so a member's start fails. */
function isAuthFailure(message: string): boolean {
  return /authori[sz]ation|authentication|bad_auth|bad_creds|permissions violation for connection/i.test(message);
}

/**
 * The member's one connection to NATS, kept up for as long as the transport runs. The client
 * reconnects by itself (to any server it knows, forever by default); should it give up, or the
 * first connection fail, this makes a new one after `reconnectTimeWaitMs`. Publishing goes
 * through `current()`, which is undefined unless connected: while the connection is down the
 * transport holds messages in its own bounded queues instead of the client's buffer, which the
 * client throws away when it reconnects.
 */
export class NatsConnection {
  private client: NatsClient | undefined;
  private stateNow: ConnectionState = 'connecting';
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;

  constructor(
    private readonly options: NatsClientOptions,
    private readonly listener: NatsConnectionListener,
    private readonly logger: Logger,
    private readonly stats: NatsTransportStats,
  ) {}

  get state(): ConnectionState {
    return this.stateNow;
  }

  /** The client when connected; undefined while connecting or reconnecting. */
  current(): NatsClient | undefined {
    return this.stateNow === 'connected' ? this.client : undefined;
  }

  /** The client even while it reconnects (for subscriptions, which it restores by itself). */
  any(): NatsClient | undefined {
    return this.client;
  }

  /**
   * Connects. Resolves once connected, or once the first attempt found no server (then it keeps
   * trying in the background); rejects only when the server refused the credentials.
   */
  async start(): Promise<void> {
    try {
      await this.attempt();
    } catch (err) {
      const reason = (err as Error).message;
      if (isAuthFailure(reason)) {
        this.stopped = true;
        this.setState('closed', '');
        throw new Error(`cannot connect to NATS (${this.options.servers.join(', ')}): the server refused the credentials: ${reason}`, { cause: err });
      }
      this.logger.warn(
        { servers: this.options.servers, reason, retryInMs: this.options.reconnectTimeWaitMs },
        'NATS is not reachable; connecting in the background',
      );
      this.scheduleRetry();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    this.setState('closed', '');
    await client?.close().catch(() => undefined);
  }

  private async attempt(): Promise<void> {
    const client = await connectNats(this.options, (event) => this.onEvent(client, event));
    if (this.stopped) {
      await client.close();
      return;
    }
    this.client = client;
    this.failures = 0;
    this.setState('connected', client.server());
    this.logger.info({ server: client.server(), maxPayload: client.maxPayload(), name: this.options.name }, 'connected to NATS');
    void client.closed().then((reason) => this.onClosed(client, reason));
    this.listener.connected(client);
  }

  private onEvent(client: NatsClient, event: NatsConnectionEvent): void {
    if (this.stopped || client !== this.client) return;
    switch (event.type) {
      case 'disconnected':
        this.stats.disconnects++;
        this.setState('reconnecting', event.server);
        this.logger.warn({ server: event.server }, 'NATS connection lost; reconnecting');
        return;
      case 'reconnecting':
        this.stats.reconnectAttempts++;
        return;
      case 'reconnected':
        this.stats.reconnects++;
        this.setState('connected', event.server);
        this.logger.info({ server: event.server, maxPayload: client.maxPayload() }, 'reconnected to NATS');
        this.listener.reconnected(client);
        return;
      case 'stale':
        this.logger.warn({ server: client.server() }, 'the NATS server stopped answering pings; reconnecting');
        return;
      case 'error':
        this.logger.warn({ server: client.server(), error: event.detail }, 'NATS reported an error');
        return;
      case 'servers-changed':
        this.logger.info({ added: event.added, deleted: event.deleted }, 'NATS servers of the cluster changed');
        return;
    }
  }

  private onClosed(client: NatsClient, reason: string | undefined): void {
    if (this.stopped || client !== this.client) return;
    this.client = undefined;
    this.setState('closed', '');
    this.logger.error(
      { reason: reason ?? 'closed', retryInMs: this.options.reconnectTimeWaitMs },
      'the NATS client gave up reconnecting; making a new connection',
    );
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    this.setState('connecting', '');
    const delay = this.options.reconnectTimeWaitMs + Math.random() * this.options.reconnectJitterMs;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.stats.reconnectAttempts++;
      this.attempt().catch((err: Error) => {
        // Logged once, then at debug per attempt: a long outage should not flood the log.
        if (this.failures++ === 0) this.logger.warn({ servers: this.options.servers, reason: err.message }, 'still cannot reach NATS; retrying');
        else this.logger.debug({ reason: err.message, failures: this.failures }, 'NATS still unreachable');
        this.scheduleRetry();
      });
    }, delay);
    this.retryTimer.unref();
  }

  private setState(state: ConnectionState, server: string): void {
    this.stateNow = state;
    this.stats.connectionState = state;
    if (server !== '') this.stats.server = server;
  }
}
