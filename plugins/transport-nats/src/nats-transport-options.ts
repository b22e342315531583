import type { NatsClientOptions, NatsCredentials, NatsTlsFiles } from './nats-client.js';

/** How the NATS transport is set up; everything but `servers`, `clusterToken` and `listen` has a default. */
export interface NatsTransportOptions {
  /** NATS server URLs (`nats://127.0.0.1:4222`, `tls://...`); the client learns the rest of a NATS cluster from them. */
  readonly servers: readonly string[];
  /** The connection's name in the server's monitoring (default `cairn`). */
  readonly name?: string;
  /** First tokens of every member subject (default `cairn`). */
  readonly subjectPrefix?: string;
  /** `--initial-cluster-token`: one cluster's subjects are `<subjectPrefix>.<token>.<member>`. */
  readonly clusterToken: string;
  /** This member's own peer URLs (`nats://n1`): the subjects it listens on. */
  readonly listen: readonly string[];
  /**
   * The cluster ID; envelopes from another cluster are dropped and counted. `start()`'s argument
   * overrides it; '' means a joining member, which takes the cluster of the first known peer.
   */
  readonly clusterId?: string;
  readonly credentials?: NatsCredentials;
  readonly tls?: NatsTlsFiles;
  /** Per server; -1 (the default): forever. A client that gives up is replaced by a new connection. */
  readonly maxReconnectAttempts?: number;
  /** Between reconnect attempts (default 250 ms), plus up to `reconnectJitterMs` (default 100 ms). */
  readonly reconnectTimeWaitMs?: number;
  readonly reconnectJitterMs?: number;
  /** Client pings (default every 5 s, 3 unanswered = dead) find a server that hangs without closing the socket. */
  readonly pingIntervalMs?: number;
  readonly maxPingOut?: number;
  /** One connection attempt (default 5 s). */
  readonly connectTimeoutMs?: number;
  /** Largest NATS message the transport publishes; the server's `max_payload` when smaller. */
  readonly maxPayload?: number;
  /** Raft messages queued per peer (default 4096); more are dropped and counted. */
  readonly queueSize?: number;
  /** Largest Raft message accepted in fragments (default 64 MiB). */
  readonly maxMessageBytes?: number;
  /** Snapshot bytes per chunk (default: as much as the payload limit allows). */
  readonly snapshotChunkBytes?: number;
  /** Snapshot chunks in flight, not yet taken by the receiver's store (default 4). */
  readonly snapshotWindow?: number;
  /** Without progress for this long, a snapshot sender sends again what was not acknowledged (default 1 s). */
  readonly snapshotRetransmitMs?: number;
  /** A snapshot transfer with no word from the other side for this long fails (default 30 s). */
  readonly snapshotIdleTimeoutMs?: number;
  /** A subscription the server closed is made again after this (doubling up to 5 s; default 100 ms). */
  readonly resubscribeInitialMs?: number;
}

export const DEFAULT_SUBJECT_PREFIX = 'cairn';
export const DEFAULT_QUEUE_SIZE = 4096;
const DEFAULT_PAYLOAD = 1024 * 1024;

/** The options with every default filled in. */
export type ResolvedNatsTransportOptions = Required<Omit<NatsTransportOptions, 'clusterId' | 'tls' | 'maxPayload' | 'snapshotChunkBytes'>> &
  Pick<NatsTransportOptions, 'clusterId' | 'tls' | 'maxPayload' | 'snapshotChunkBytes'>;

export function withDefaults(options: NatsTransportOptions): ResolvedNatsTransportOptions {
  return {
    ...options,
    name: options.name ?? 'cairn',
    subjectPrefix: options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX,
    credentials: options.credentials ?? { kind: 'none' },
    maxReconnectAttempts: options.maxReconnectAttempts ?? -1,
    reconnectTimeWaitMs: options.reconnectTimeWaitMs ?? 250,
    reconnectJitterMs: options.reconnectJitterMs ?? 100,
    pingIntervalMs: options.pingIntervalMs ?? 5_000,
    maxPingOut: options.maxPingOut ?? 3,
    connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
    queueSize: options.queueSize ?? DEFAULT_QUEUE_SIZE,
    maxMessageBytes: options.maxMessageBytes ?? 64 * 1024 * 1024,
    snapshotWindow: options.snapshotWindow ?? 4,
    snapshotRetransmitMs: options.snapshotRetransmitMs ?? 1_000,
    snapshotIdleTimeoutMs: options.snapshotIdleTimeoutMs ?? 30_000,
    resubscribeInitialMs: options.resubscribeInitialMs ?? 100,
  };
}

export function clientOptionsOf(options: ResolvedNatsTransportOptions): NatsClientOptions {
  return {
    servers: options.servers,
    name: options.name,
    credentials: options.credentials,
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    maxReconnectAttempts: options.maxReconnectAttempts,
    reconnectTimeWaitMs: options.reconnectTimeWaitMs,
    reconnectJitterMs: options.reconnectJitterMs,
    pingIntervalMs: options.pingIntervalMs,
    maxPingOut: options.maxPingOut,
    connectTimeoutMs: options.connectTimeoutMs,
  };
}

/** The largest NATS message to publish: the server's limit, or the options' when lower. */
export function payloadLimit(serverMaxPayload: number | undefined, options: ResolvedNatsTransportOptions): number {
  return Math.min(serverMaxPayload ?? DEFAULT_PAYLOAD, options.maxPayload ?? Number.POSITIVE_INFINITY);
}
