import type { JsonSchema } from '@cairn/core';

/** Options of `plugins.transport: { use: "@cairn/transport-nats", ... }` (defaults filled in by the schema). */
export interface NatsPluginOptions {
  readonly servers: readonly string[];
  readonly name?: string;
  readonly subjectPrefix: string;
  readonly token?: string;
  readonly user?: string;
  readonly pass?: string;
  readonly nkeySeedFile?: string;
  readonly credsFile?: string;
  readonly tls?: { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string };
  readonly maxReconnectAttempts: number;
  readonly reconnectTimeWaitMs: number;
  readonly reconnectJitterMs: number;
  readonly pingIntervalMs: number;
  readonly maxPingOut: number;
  readonly connectTimeoutMs: number;
  readonly maxPayload?: number;
  readonly queueSize: number;
  readonly maxMessageBytes: number;
  readonly snapshotChunkBytes?: number;
  readonly snapshotWindow: number;
  readonly snapshotRetransmitMs: number;
  readonly snapshotIdleTimeoutMs: number;
}

const nonEmpty = { type: 'string', minLength: 1 } as const;

export const pluginOptionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    servers: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', pattern: '^(nats|tls)://[^\\s]+$' },
      default: ['nats://127.0.0.1:4222'],
      description: 'NATS servers to connect to (nats://host:port or tls://host:port); the client learns the rest of a NATS cluster from them.',
    },
    name: { ...nonEmpty, description: "The connection's name in the server's monitoring; default cairn-<member name>." },
    subjectPrefix: {
      type: 'string',
      pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$',
      default: 'cairn',
      description: 'First tokens of every member subject: <subjectPrefix>.<initial-cluster-token>.<member name from its nats:// peer URL>.',
    },
    token: { ...nonEmpty, description: 'Authenticate with this token.' },
    user: { ...nonEmpty, description: 'Authenticate as this user (with pass).' },
    pass: { ...nonEmpty, description: "The user's password." },
    nkeySeedFile: { ...nonEmpty, description: 'Authenticate with the nkey seed (SU...) in this file.' },
    credsFile: { ...nonEmpty, description: 'Authenticate with this .creds file (user JWT and nkey seed).' },
    tls: {
      type: 'object',
      additionalProperties: false,
      description:
        "TLS to the NATS server: the CA that signs the server's certificate, and this member's certificate and key when the server asks for one (PEM files).",
      properties: { caFile: nonEmpty, certFile: nonEmpty, keyFile: nonEmpty },
    },
    maxReconnectAttempts: {
      type: 'integer',
      minimum: -1,
      default: -1,
      description: 'Reconnect attempts per server before the client gives up (-1: forever); then the transport makes a new connection.',
    },
    reconnectTimeWaitMs: { type: 'integer', minimum: 1, default: 250, description: 'Delay between reconnect attempts.' },
    reconnectJitterMs: { type: 'integer', minimum: 0, default: 100, description: 'Up to this much random delay added to each reconnect delay.' },
    pingIntervalMs: { type: 'integer', minimum: 100, default: 5000, description: 'Client pings; maxPingOut unanswered ones mean the server is gone.' },
    maxPingOut: { type: 'integer', minimum: 1, default: 3, description: 'Unanswered pings before reconnecting.' },
    connectTimeoutMs: { type: 'integer', minimum: 100, default: 5000, description: 'Time allowed for one connection attempt.' },
    maxPayload: {
      type: 'integer',
      minimum: 8192,
      description: "Largest NATS message the transport publishes; the server's max_payload (from its INFO) when that is smaller.",
    },
    queueSize: {
      type: 'integer',
      minimum: 1,
      default: 4096,
      description: 'Raft messages queued per peer (also while disconnected); more are dropped and counted.',
    },
    maxMessageBytes: {
      type: 'integer',
      minimum: 65536,
      default: 67108864,
      description: 'Largest Raft message accepted from a peer in fragments; a bigger one is dropped.',
    },
    snapshotChunkBytes: {
      type: 'integer',
      minimum: 1024,
      description: 'Snapshot bytes per NATS message; by default as many as the payload limit allows.',
    },
    snapshotWindow: {
      type: 'integer',
      minimum: 1,
      maximum: 64,
      default: 4,
      description: "Snapshot chunks sent ahead of the receiver's store; what either side holds of a snapshot is at most this many chunks.",
    },
    snapshotRetransmitMs: {
      type: 'integer',
      minimum: 10,
      default: 1000,
      description: 'Without progress for this long, a snapshot sender sends again what the receiver lacks.',
    },
    snapshotIdleTimeoutMs: {
      type: 'integer',
      minimum: 100,
      default: 30000,
      description: 'A snapshot transfer fails when the other side has said nothing for this long.',
    },
  },
};
