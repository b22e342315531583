/*
 * The one file that speaks to the `nats` package (nats.js v2). Everything else uses the small
 * NatsClient interface below, so moving to `@nats-io/transport-node` (v3) changes this file only.
 */
import {
  connect,
  createInbox,
  credsAuthenticator,
  DebugEvents,
  Events,
  nkeyAuthenticator,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
  type Authenticator,
  type ConnectionOptions,
  type NatsConnection,
  type Subscription,
} from 'nats';

/** How the member proves who it is to the NATS server. */
export type NatsCredentials =
  | { readonly kind: 'none' }
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'user'; readonly user: string; readonly pass: string }
  /** An nkey seed (the `SU...` text). */
  | { readonly kind: 'nkey'; readonly seed: Uint8Array }
  /** A `.creds` file's contents (user JWT and nkey seed). */
  | { readonly kind: 'creds'; readonly creds: Uint8Array };

/** TLS to the NATS server: file paths (PEM). */
export interface NatsTlsFiles {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

export interface NatsClientOptions {
  readonly servers: readonly string[];
  /** Shown by the server's monitoring endpoints (`/connz`). */
  readonly name: string;
  readonly credentials: NatsCredentials;
  readonly tls?: NatsTlsFiles;
  /** Per server; -1: forever. */
  readonly maxReconnectAttempts: number;
  readonly reconnectTimeWaitMs: number;
  readonly reconnectJitterMs: number;
  /** Client pings find a server that stopped answering (a paused process, a dead route) without a TCP reset. */
  readonly pingIntervalMs: number;
  readonly maxPingOut: number;
  /** For one connection attempt. */
  readonly connectTimeoutMs: number;
}

/** A message as the transport sees it. */
export interface NatsInbound {
  readonly subject: string;
  readonly reply: string | undefined;
  readonly data: Uint8Array;
  /** A status the server sent instead of a message (503: nobody subscribes to the subject a request went to). */
  readonly status: number | undefined;
}

/** What happened to the connection (the client reconnects by itself; `closed` means it gave up). */
export type NatsConnectionEvent =
  | { readonly type: 'disconnected'; readonly server: string }
  | { readonly type: 'reconnecting' }
  | { readonly type: 'reconnected'; readonly server: string }
  | { readonly type: 'stale' }
  | { readonly type: 'error'; readonly detail: string }
  | { readonly type: 'servers-changed'; readonly added: readonly string[]; readonly deleted: readonly string[] };

export interface NatsSubscriptionHandle {
  /** Resolves when the subscription ends: unsubscribed, or closed by the server (a permission reload). */
  readonly closed: Promise<void>;
  isClosed(): boolean;
  unsubscribe(): void;
}

export interface NatsTraffic {
  readonly inBytes: number;
  readonly outBytes: number;
  readonly inMsgs: number;
  readonly outMsgs: number;
}

export interface NatsClient {
  /** The connected server's `max_payload` (from its INFO); the last known one while disconnected. */
  maxPayload(): number;
  /** The URL of the server the client is (or was last) connected to. */
  server(): string;
  /** Queues a publish; throws only on a closed connection or a payload over `max_payload`. */
  publish(subject: string, data: Uint8Array, reply?: string): void;
  subscribe(subject: string, onMessage: (message: NatsInbound) => void, onError: (detail: string) => void): NatsSubscriptionHandle;
  /** A subject no one else uses, for replies. */
  createInbox(): string;
  /** Resolves once the server has seen everything published so far. */
  flush(): Promise<void>;
  traffic(): NatsTraffic;
  /** Resolves when the connection is closed for good: by `close()`, or the client gave up reconnecting. */
  closed(): Promise<string | undefined>;
  isClosed(): boolean;
  close(): Promise<void>;
}

const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

function authenticator(credentials: NatsCredentials): Authenticator | undefined {
  switch (credentials.kind) {
    case 'none':
      return undefined;
    case 'token':
      return tokenAuthenticator(credentials.token);
    case 'user':
      return usernamePasswordAuthenticator(credentials.user, credentials.pass);
    case 'nkey':
      return nkeyAuthenticator(credentials.seed);
    case 'creds':
      return credsAuthenticator(credentials.creds);
  }
}

function connectionOptions(options: NatsClientOptions): ConnectionOptions {
  const auth = authenticator(options.credentials);
  return {
    servers: [...options.servers],
    name: options.name,
    ...(auth === undefined ? {} : { authenticator: auth }),
    ...(options.tls === undefined ? {} : { tls: { ...options.tls } }),
    reconnect: true,
    maxReconnectAttempts: options.maxReconnectAttempts,
    reconnectTimeWait: options.reconnectTimeWaitMs,
    reconnectJitter: options.reconnectJitterMs,
    reconnectJitterTLS: options.reconnectJitterMs,
    pingInterval: options.pingIntervalMs,
    maxPingOut: options.maxPingOut,
    timeout: options.connectTimeoutMs,
    // Each member talks to itself never; its own publishes must not come back to it.
    noEcho: true,
  };
}

class NatsJsClient implements NatsClient {
  private lastMaxPayload: number;

  constructor(private readonly connection: NatsConnection) {
    this.lastMaxPayload = connection.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
  }

  maxPayload(): number {
    const current = this.connection.info?.max_payload;
    if (current !== undefined) this.lastMaxPayload = current;
    return this.lastMaxPayload;
  }

  server(): string {
    return this.connection.getServer();
  }

  publish(subject: string, data: Uint8Array, reply?: string): void {
    this.connection.publish(subject, data, reply === undefined ? undefined : { reply });
  }

  subscribe(subject: string, onMessage: (message: NatsInbound) => void, onError: (detail: string) => void): NatsSubscriptionHandle {
    const subscription: Subscription = this.connection.subscribe(subject, {
      callback: (err, msg) => {
        if (err !== null) {
          onError(err.message);
          return;
        }
        const headers = msg.headers;
        onMessage({
          subject: msg.subject,
          reply: msg.reply === '' ? undefined : msg.reply,
          data: msg.data,
          status: headers?.hasError ? headers.code : undefined,
        });
      },
    });
    return {
      closed: subscription.closed.then(() => undefined),
      isClosed: () => subscription.isClosed(),
      unsubscribe: () => {
        if (!subscription.isClosed()) subscription.unsubscribe();
      },
    };
  }

  createInbox(): string {
    return createInbox();
  }

  flush(): Promise<void> {
    return this.connection.flush();
  }

  traffic(): NatsTraffic {
    const stats = this.connection.stats();
    return { inBytes: stats.inBytes, outBytes: stats.outBytes, inMsgs: stats.inMsgs, outMsgs: stats.outMsgs };
  }

  async closed(): Promise<string | undefined> {
    const err = await this.connection.closed();
    return err instanceof Error ? err.message : undefined;
  }

  isClosed(): boolean {
    return this.connection.isClosed();
  }

  async close(): Promise<void> {
    if (!this.connection.isClosed()) await this.connection.close();
  }

  /** Maps the client's status stream to NatsConnectionEvents until the connection closes. */
  async forwardEvents(listener: (event: NatsConnectionEvent) => void): Promise<void> {
    for await (const status of this.connection.status()) {
      switch (status.type) {
        case Events.Disconnect:
          listener({ type: 'disconnected', server: String(status.data) });
          break;
        case Events.Reconnect:
          listener({ type: 'reconnected', server: String(status.data) });
          break;
        case DebugEvents.Reconnecting:
          listener({ type: 'reconnecting' });
          break;
        case DebugEvents.StaleConnection:
          listener({ type: 'stale' });
          break;
        case Events.Error:
          listener({ type: 'error', detail: String(status.data) });
          break;
        case Events.Update: {
          const changed = status.data as { added?: string[]; deleted?: string[] };
          listener({ type: 'servers-changed', added: changed.added ?? [], deleted: changed.deleted ?? [] });
          break;
        }
        default:
          break;
      }
    }
  }
}

/**
 * One connection attempt to the servers in `options` (each tried once). Rejects when none answers
 * or the server refuses the credentials; once connected, the client reconnects by itself and
 * `onEvent` hears about it.
 */
export async function connectNats(options: NatsClientOptions, onEvent: (event: NatsConnectionEvent) => void): Promise<NatsClient> {
  const connection = await connect(connectionOptions(options));
  const client = new NatsJsClient(connection);
  void client.forwardEvents(onEvent).catch(() => undefined);
  return client;
}
