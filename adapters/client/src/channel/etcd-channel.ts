/**
 * The one seam between the client and a server: etcd's RPCs as plain messages (the shape of
 * `@cairn/core`'s etcd-wire types: proto field names, 64-bit integers as decimal strings or exact
 * numbers, bytes as Uint8Array/Buffer, enums as numbers, oneofs named by a virtual field). The
 * gRPC channel (`grpc-channel.ts`) carries them over a socket; `@cairn/embed` calls a member's
 * services in the same process. Everything above this file (KV, watches, leases, recipes) is the
 * same for both.
 */

/** The etcd services a channel reaches; Lock and Election are etcd's v3lockpb/v3electionpb. */
export type EtcdServiceName = 'KV' | 'Watch' | 'Lease' | 'Cluster' | 'Maintenance' | 'Auth' | 'Lock' | 'Election';

/** A request or response message in etcd's wire shape. */
export type WireMessage = object;

export interface ChannelCallOptions {
  /** Aborts the call; the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Absolute deadline, milliseconds since the epoch (Date.now()); passing it fails the call with DEADLINE_EXCEEDED. */
  readonly deadline?: number;
  /** The auth token etcd expects in the `token` metadata. */
  readonly token?: string;
}

/**
 * How a call failed, as a gRPC status: `code` is the gRPC status code, `details` etcd's message
 * word for word (e.g. `etcdserver: requested lease not found`). A channel rejects with this for
 * every failure, transport ones included (UNAVAILABLE, code 14).
 */
export class ChannelError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(details);
    this.name = 'ChannelError';
  }
}

/** A stream of messages from the server (Watch, LeaseKeepAlive, Election.Observe, Maintenance.Snapshot). */
export interface ChannelStream {
  /** Each message the server sends. */
  on(event: 'data', listener: (message: WireMessage) => void): this;
  /** The stream failed (a ChannelError); no further event follows. */
  on(event: 'error', listener: (error: ChannelError) => void): this;
  /** The server ended the stream cleanly; no further event follows. */
  on(event: 'end', listener: () => void): this;
  /** Ends it from this side without an error event. */
  cancel(): void;
}

/** A stream both ways (Watch, LeaseKeepAlive). */
export interface ChannelDuplex extends ChannelStream {
  write(message: WireMessage): void;
  /** Half-closes: no more requests. */
  end(): void;
}

export interface EtcdChannel {
  /** What this channel reaches, for errors and logs (`127.0.0.1:2379`, `in-process`). */
  readonly target: string;
  unary(service: EtcdServiceName, method: string, request: WireMessage, options?: ChannelCallOptions): Promise<WireMessage>;
  duplex(service: EtcdServiceName, method: string, options?: ChannelCallOptions): ChannelDuplex;
  serverStream(service: EtcdServiceName, method: string, request: WireMessage, options?: ChannelCallOptions): ChannelStream;
  close(): void;
}
