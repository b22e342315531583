import type {
  WireAuthenticateRequest,
  WireRangeResponse,
  WirePutResponse,
  WireDeleteRangeResponse,
  WireTxnRequest,
  WireTxnResponse,
  WireHeaderOnlyResponse,
} from '@cairn/core';
import { TokenAuth } from './auth/token-auth.js';
import { toBuffer, type Bytes } from './bytes.js';
import type { CallOptions, RawCallOptions } from './call-options.js';
import type { ChannelStream, EtcdChannel, EtcdServiceName, WireMessage } from './channel/etcd-channel.js';
import { GrpcChannel, type ChannelTlsOptions } from './channel/grpc-channel.js';
import { ClusterClient } from './cluster/cluster-client.js';
import { Connection } from './endpoints/connection.js';
import { EndpointPool } from './endpoints/endpoint-pool.js';
import {
  deleteRequest,
  deleteResultFromWire,
  putRequest,
  putResultFromWire,
  rangeRequest,
  rangeResultFromWire,
  type DeleteOptions,
  type GetOptions,
  type IterateOptions,
  type PutOptions,
  type RangeOptions,
} from './kv/kv-requests.js';
import { headerFromWire, type DeleteResult, type KeyValue, type PutResult, type RangeResult, type ResponseHeader } from './kv/kv-types.js';
import { TxnBuilder, txnResultFromWire } from './kv/txn.js';
import { LeaseClient } from './lease/lease-client.js';
import { Session, type SessionOptions } from './session.js';
import { ResumingWatch } from './watch/resuming-watch.js';
import type { Watch, WatchOptions } from './watch/watch.js';

export interface ClientOptions {
  /** `http://host:port`, `https://host:port` or `host:port` (default `['127.0.0.1:2379']`). */
  endpoints?: string[];
  /** A channel to use instead of gRPC (e.g. @cairn/embed's in-process one), or a factory per endpoint. */
  channel?: EtcdChannel | ((endpoint: string) => EtcdChannel);
  /** Authenticate with these; the token goes with every call and is renewed once on `etcdserver: invalid auth token`. */
  auth?: { username: string; password: string };
  /** TLS material (Buffers, or strings as file paths); `https://` endpoints use TLS even without it. */
  tls?: ChannelTlsOptions;
  /** Default deadline of the client's own unary calls (KV, lease, cluster), ms (default 30 000). Not applied to `raw`. */
  callTimeoutMs?: number;
  /** How long a call waits for a connection to an endpoint before trying the next one, ms (default 3000). */
  dialTimeoutMs?: number;
  /** HTTP/2 keepalive ping interval of gRPC connections, ms (default 10 000; 0: off). */
  keepAliveMs?: number;
}

/** etcd's RPCs through the client's endpoints, failover, auth and deadlines (for recipes and admin calls). */
export interface RawCalls {
  /** One unary RPC; no default deadline (blocking RPCs such as Lock may wait). Retried elsewhere only with `idempotent`. */
  unary<T extends object = Record<string, unknown>>(service: EtcdServiceName, method: string, request: WireMessage, options?: RawCallOptions): Promise<T>;
  /** A server stream (e.g. Election.Observe) on the first endpoint that connects; not resumed. */
  serverStream(service: EtcdServiceName, method: string, request: WireMessage, options?: CallOptions): Promise<ChannelStream>;
}

/** A client of the etcd v3 API (Cairn and etcd alike). */
export class Client {
  readonly lease: LeaseClient;
  readonly cluster: ClusterClient;
  readonly raw: RawCalls;
  private readonly connection: Connection;
  private readonly callTimeoutMs: number;
  private readonly watches = new Set<ResumingWatch>();
  private closed = false;

  constructor(options: ClientOptions = {}) {
    const channel = options.channel;
    const open =
      typeof channel === 'function'
        ? channel
        : channel !== undefined
          ? () => channel
          : (endpoint: string) =>
              new GrpcChannel(endpoint, {
                ...(options.tls === undefined ? {} : { tls: options.tls }),
                ...(options.keepAliveMs === undefined ? {} : { keepAliveMs: options.keepAliveMs }),
              });
    const endpoints = options.endpoints ?? (channel !== undefined && typeof channel !== 'function' ? [channel.target] : ['127.0.0.1:2379']);
    this.callTimeoutMs = options.callTimeoutMs ?? 30_000;
    this.connection = new Connection(new EndpointPool(endpoints, open), { dialTimeoutMs: options.dialTimeoutMs ?? 3000 });
    const credentials = options.auth;
    if (credentials !== undefined) {
      this.connection.auth = new TokenAuth(async () => {
        const request: WireAuthenticateRequest = { name: credentials.username, password: credentials.password };
        const response = await this.connection.unary<{ token: string }>('Auth', 'Authenticate', request, { idempotent: true }, this.callTimeoutMs, false);
        return response.token;
      });
    }
    this.lease = new LeaseClient(this.connection, this.callTimeoutMs);
    this.cluster = new ClusterClient(this.connection, this.callTimeoutMs);
    const connection = this.connection;
    this.raw = {
      unary: <T extends object>(service: EtcdServiceName, method: string, request: WireMessage, callOptions: RawCallOptions = {}) =>
        connection.unary<T>(service, method, request, callOptions),
      serverStream: async (service: EtcdServiceName, method: string, request: WireMessage, callOptions: CallOptions = {}) => {
        const opened = await connection.openStream((endpoint, channelOptions) => endpoint.channel.serverStream(service, method, request, channelOptions), {
          ...(callOptions.signal === undefined ? {} : { signal: callOptions.signal }),
        });
        return opened.stream;
      },
    };
  }

  /** The endpoints as given. */
  get endpoints(): string[] {
    return this.connection.pool.endpoints.map((e) => e.name);
  }

  /** The value of one key, or undefined. */
  async get(key: Bytes, options: GetOptions = {}): Promise<KeyValue | undefined> {
    const result = await this.range(key, { ...options, limit: 1 });
    return result.kvs[0];
  }

  /** A Range (read): retried on another endpoint when one fails. */
  async range(key: Bytes, options: RangeOptions = {}): Promise<RangeResult> {
    const response = await this.connection.unary<WireRangeResponse>(
      'KV',
      'Range',
      rangeRequest(key, options),
      { ...options, idempotent: true },
      this.callTimeoutMs,
    );
    return rangeResultFromWire(response);
  }

  /**
   * Every key of the range in key order, fetched `pageSize` at a time, all pages read at the
   * revision of the first page (a consistent snapshot).
   */
  async *iterate(key: Bytes, options: IterateOptions = {}): AsyncIterable<KeyValue> {
    const pageSize = options.pageSize ?? 1000;
    const { pageSize: _pageSize, ...rangeOptions } = options;
    let revision = options.revision;
    let from = toBuffer(key);
    const base = rangeRequest(key, rangeOptions);
    const end = base.range_end.length > 0 ? base.range_end : undefined;
    for (;;) {
      const page = await this.range(from, {
        ...rangeOptions,
        prefix: false,
        ...(end === undefined ? {} : { end }),
        limit: pageSize,
        ...(revision === undefined ? {} : { revision }),
      });
      revision ??= page.header.revision;
      for (const kv of page.kvs) yield kv;
      if (!page.more || end === undefined || page.kvs.length === 0) return;
      from = Buffer.concat([page.kvs[page.kvs.length - 1]!.key, Buffer.from([0])]);
    }
  }

  /** A Put (not retried on another endpoint unless the first one never connected). */
  async put(key: Bytes, value: Bytes, options: PutOptions = {}): Promise<PutResult> {
    const response = await this.connection.unary<WirePutResponse>('KV', 'Put', putRequest(key, value, options), options, this.callTimeoutMs);
    return putResultFromWire(response);
  }

  async delete(key: Bytes, options: DeleteOptions = {}): Promise<DeleteResult> {
    const response = await this.connection.unary<WireDeleteRangeResponse>('KV', 'DeleteRange', deleteRequest(key, options), options, this.callTimeoutMs);
    return deleteResultFromWire(response);
  }

  txn(): TxnBuilder {
    return new TxnBuilder(async (request: WireTxnRequest, options: CallOptions) => {
      const readOnly = [...request.success, ...request.failure].every((op) => op.request === 'request_range');
      const response = await this.connection.unary<WireTxnResponse>('KV', 'Txn', request, { ...options, idempotent: readOnly }, this.callTimeoutMs);
      return txnResultFromWire(response);
    });
  }

  async compact(revision: bigint, options: { physical?: boolean } & CallOptions = {}): Promise<ResponseHeader> {
    const response = await this.connection.unary<WireHeaderOnlyResponse>(
      'KV',
      'Compact',
      { revision: revision.toString(), physical: options.physical ?? false },
      options,
      this.callTimeoutMs,
    );
    return headerFromWire(response.header);
  }

  /** Watches a key, a range or a prefix; see `Watch`. */
  watch(key: Bytes, options: WatchOptions = {}): Watch {
    if (this.closed) throw new Error('the client is closed');
    const watch: ResumingWatch = new ResumingWatch(this.connection, key, options, () => this.watches.delete(watch));
    this.watches.add(watch);
    return watch;
  }

  /** A session: a lease granted (or reused) and kept alive until closed or lost. */
  session(options: SessionOptions = {}): Promise<Session> {
    return Session.create(this, this.lease, options);
  }

  /** Ends every watch and keeper and closes the connections (leases are not revoked). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const watch of [...this.watches]) watch.close();
    this.lease.closeAll();
    this.connection.pool.close();
    await Promise.resolve();
  }
}
