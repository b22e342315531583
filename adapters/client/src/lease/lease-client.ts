import type { WireLeaseGrantResponse, WireLeaseKeepAliveResponse, WireLeaseLeasesResponse, WireLeaseTimeToLiveResponse } from '@cairn/core';
import type { CallOptions } from '../call-options.js';
import { deadlineOf } from '../call-options.js';
import type { ChannelDuplex } from '../channel/etcd-channel.js';
import type { Connection } from '../endpoints/connection.js';
import { DeadlineExceededError, etcdErrorFrom, GrpcCode, isRetryable, LeaseNotFoundError, UnavailableError, type EtcdError } from '../errors.js';
import { bufferOf, headerFromWire, int64, type ResponseHeader } from '../kv/kv-types.js';
import { KeepAliveLoop } from './keep-alive-loop.js';
import type { KeeperStart, LeaseKeeper } from './lease-keeper.js';

export interface LeaseGrant {
  id: bigint;
  ttl: number;
  header: ResponseHeader;
  /** When the grant was sent (ms epoch): the server cannot expire the lease before this + ttl. */
  sentAt: number;
}

export interface LeaseTimeToLive {
  id: bigint;
  /** Seconds left; -1 when the lease does not exist (any more). */
  ttl: number;
  grantedTtl: number;
  keys: Buffer[];
}

export interface KeepAliveOptions {
  /** The lease's TTL in seconds, if known. */
  ttl?: number;
  /** The earliest moment the server may expire the lease (ms epoch), if known; default now + ttl. */
  expiresAt?: number;
}

/** The Lease service, and background keep-alive. */
export class LeaseClient {
  private readonly keepers = new Map<bigint, Set<KeepAliveLoop>>();

  constructor(
    private readonly connection: Connection,
    private readonly callTimeoutMs: number | undefined,
  ) {}

  /** Grants a lease (not retried on another endpoint: a retry could grant a second one). */
  async grant(ttlSeconds: number, options: { id?: bigint } & CallOptions = {}): Promise<LeaseGrant> {
    const sentAt = Date.now();
    const response = await this.connection.unary<WireLeaseGrantResponse>(
      'Lease',
      'LeaseGrant',
      { TTL: String(ttlSeconds), ID: (options.id ?? 0n).toString() },
      options,
      this.callTimeoutMs,
    );
    if (response.error !== undefined && response.error !== '') throw etcdErrorFrom(GrpcCode.FailedPrecondition, response.error, '');
    return { id: int64(response.ID), ttl: Number(response.TTL), header: headerFromWire(response.header), sentAt };
  }

  async revoke(id: bigint, options: CallOptions = {}): Promise<void> {
    for (const keeper of this.keepers.get(id) ?? []) keeper.revoked();
    await this.connection.unary('Lease', 'LeaseRevoke', { ID: id.toString() }, options, this.callTimeoutMs);
  }

  async timeToLive(id: bigint, options: { keys?: boolean } & CallOptions = {}): Promise<LeaseTimeToLive> {
    const response = await this.connection.unary<WireLeaseTimeToLiveResponse>(
      'Lease',
      'LeaseTimeToLive',
      { ID: id.toString(), keys: options.keys ?? false },
      { ...options, idempotent: true },
      this.callTimeoutMs,
    );
    return { id: int64(response.ID), ttl: Number(response.TTL), grantedTtl: Number(response.grantedTTL), keys: (response.keys ?? []).map(bufferOf) };
  }

  async leases(options: CallOptions = {}): Promise<bigint[]> {
    const response = await this.connection.unary<WireLeaseLeasesResponse>('Lease', 'LeaseLeases', {}, { ...options, idempotent: true }, this.callTimeoutMs);
    return (response.leases ?? []).map((lease) => int64(lease.ID));
  }

  /** One renewal; resolves with the new TTL in seconds, 0 when the lease does not exist. Retried on another endpoint. */
  async keepAliveOnce(id: bigint, options: CallOptions = {}): Promise<number> {
    const deadline = deadlineOf(options, this.callTimeoutMs);
    const tried: EtcdError[] = [];
    for (let attempt = 0; attempt < this.connection.pool.endpoints.length; attempt++) {
      const { endpoint, stream } = await this.connection.openStream(
        (e, callOptions) => e.channel.duplex('Lease', 'LeaseKeepAlive', { ...callOptions, ...(deadline === undefined ? {} : { deadline }) }),
        { ...(options.signal === undefined ? {} : { signal: options.signal }), ...(deadline === undefined ? {} : { deadline }) },
      );
      try {
        const response = await firstResponse(stream, { ID: id.toString() }, deadline, options.signal);
        return Math.max(0, Number(response.TTL));
      } catch (err) {
        const failure = this.connection.classify(err, endpoint);
        if (failure === undefined || !isRetryable(failure.error)) throw failure?.error ?? err;
        this.connection.pool.markUnhealthy(endpoint);
        tried.push(failure.error);
      }
    }
    throw tried[tried.length - 1] ?? new UnavailableError(GrpcCode.Unavailable, 'no endpoint answered', '');
  }

  /** Keeps the lease alive in the background until it is lost or the keeper is closed. */
  keepAlive(id: bigint, options: KeepAliveOptions = {}): LeaseKeeper {
    const start: KeeperStart = {
      ...(options.ttl === undefined ? {} : { ttl: options.ttl }),
      ...(options.expiresAt === undefined ? {} : { expiresAt: options.expiresAt }),
    };
    const keeper: KeepAliveLoop = new KeepAliveLoop(id, this.connection, start, () => {
      const set = this.keepers.get(id);
      set?.delete(keeper);
      if (set?.size === 0) this.keepers.delete(id);
    });
    if (keeper.state.kind === 'alive') {
      const set = this.keepers.get(id) ?? new Set();
      set.add(keeper);
      this.keepers.set(id, set);
    }
    return keeper;
  }

  /** Stops every keeper (the client closes). */
  closeAll(): void {
    for (const set of [...this.keepers.values()]) for (const keeper of [...set]) keeper.close();
  }

  /** A lease's remaining time as a keeper start, for reusing a lease. Throws LeaseNotFoundError when it is gone. */
  async startOf(id: bigint, options: CallOptions = {}): Promise<{ ttl: number; expiresAt: number }> {
    const sentAt = Date.now();
    const live = await this.timeToLive(id, options);
    if (live.ttl < 0) throw new LeaseNotFoundError(GrpcCode.NotFound, 'etcdserver: requested lease not found', '');
    return { ttl: live.grantedTtl, expiresAt: sentAt + live.ttl * 1000 };
  }
}

function firstResponse(
  stream: ChannelDuplex,
  request: object,
  deadline: number | undefined,
  signal: AbortSignal | undefined,
): Promise<WireLeaseKeepAliveResponse> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      done();
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer =
      deadline === undefined
        ? undefined
        : setTimeout(
            () => {
              stream.cancel();
              reject(new DeadlineExceededError(GrpcCode.DeadlineExceeded, 'context deadline exceeded', ''));
            },
            Math.max(0, deadline - Date.now()),
          );
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      stream.cancel();
    };
    stream.on('data', (message) => {
      done();
      resolve(message as WireLeaseKeepAliveResponse);
    });
    stream.on('error', (err) => {
      done();
      reject(err);
    });
    stream.on('end', () => {
      done();
      reject(etcdErrorFrom(GrpcCode.Unavailable, 'the LeaseKeepAlive stream ended without an answer', ''));
    });
    stream.write(request);
  });
}
