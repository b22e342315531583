import { ChannelError, type ChannelCallOptions, type EtcdServiceName, type WireMessage } from '../channel/etcd-channel.js';
import { deadlineOf, type RawCallOptions } from '../call-options.js';
import { DeadlineExceededError, etcdErrorFrom, GrpcCode, InvalidAuthTokenError, isRetryable, UnavailableError, type EtcdError } from '../errors.js';
import type { TokenAuth } from '../auth/token-auth.js';
import type { Endpoint, EndpointPool } from './endpoint-pool.js';

/** A channel that can tell whether it is connected and connect ahead of a call (the gRPC one). */
interface Dialable {
  isConnected(): boolean;
  connect(deadline: number): Promise<void>;
}
const isDialable = (channel: object): channel is Dialable => 'connect' in channel && 'isConnected' in channel;

export interface ConnectionSettings {
  readonly dialTimeoutMs: number;
}

/**
 * Runs calls over the endpoint pool: connection first (so that a dead endpoint costs nothing but
 * a failed dial, and any call may move on), the auth token, the deadline and the signal, failover
 * of idempotent calls, one re-authentication on `etcdserver: invalid auth token`.
 */
export class Connection {
  auth: TokenAuth | undefined;

  constructor(
    readonly pool: EndpointPool,
    private readonly settings: ConnectionSettings,
  ) {}

  async unary<T extends object>(
    service: EtcdServiceName,
    method: string,
    request: WireMessage,
    options: RawCallOptions = {},
    defaultTimeoutMs?: number,
    withToken = true,
    onAnswer?: (endpoint: string) => void,
  ): Promise<T> {
    const deadline = deadlineOf(options, defaultTimeoutMs);
    const tried = new Set<Endpoint>();
    let reauthenticated = false;
    let lastError: EtcdError | undefined;
    for (;;) {
      const signal = options.signal;
      if (signal?.aborted === true) throw signal.reason;
      if (deadline !== undefined && Date.now() >= deadline)
        throw new DeadlineExceededError(GrpcCode.DeadlineExceeded, 'context deadline exceeded', lastError?.endpoint ?? '');
      const endpoint = options.endpoint === undefined ? this.pool.pick(tried) : tried.size === 0 ? this.pool.named(options.endpoint) : undefined;
      if (endpoint === undefined) throw lastError ?? new UnavailableError(GrpcCode.Unavailable, 'no endpoint to try', '');
      let token: string | undefined;
      try {
        await this.dial(endpoint, deadline, signal);
        token = withToken ? await this.token() : undefined;
        const callOptions: ChannelCallOptions = {
          ...(signal === undefined ? {} : { signal }),
          ...(deadline === undefined ? {} : { deadline }),
          ...(token === undefined ? {} : { token }),
        };
        const response = await endpoint.channel.unary(service, method, request, callOptions);
        this.pool.markHealthy(endpoint);
        onAnswer?.(endpoint.name);
        return response as T;
      } catch (err) {
        const failure = this.classify(err, endpoint);
        if (failure === undefined) throw err;
        if (failure.error instanceof InvalidAuthTokenError && this.auth !== undefined && token !== undefined && !reauthenticated) {
          reauthenticated = true;
          await this.auth.invalidate(token);
          continue;
        }
        if (!isRetryable(failure.error)) throw failure.error;
        // A dial cut short by the call's own deadline says nothing about the endpoint.
        if (failure.unsent && deadline !== undefined && Date.now() >= deadline)
          throw new DeadlineExceededError(GrpcCode.DeadlineExceeded, 'context deadline exceeded', endpoint.name);
        this.pool.markUnhealthy(endpoint);
        tried.add(endpoint);
        lastError = failure.error;
        // A refused dial sent nothing: any call may go elsewhere. Otherwise only idempotent ones.
        if (!failure.unsent && options.idempotent !== true) throw failure.error;
      }
    }
  }

  /**
   * Opens a stream on the first endpoint that connects (each tried once), with the token. Used by
   * watches and lease keepers, which resume streams themselves.
   */
  async openStream<S>(
    open: (endpoint: Endpoint, options: ChannelCallOptions) => S,
    options: { signal?: AbortSignal; deadline?: number } = {},
  ): Promise<{ endpoint: Endpoint; stream: S; token: string | undefined }> {
    const tried = new Set<Endpoint>();
    let lastError: EtcdError | undefined;
    for (;;) {
      const endpoint = this.pool.pick(tried);
      if (endpoint === undefined) throw lastError ?? new UnavailableError(GrpcCode.Unavailable, 'no endpoint to try', '');
      try {
        await this.dial(endpoint, options.deadline, options.signal);
        const token = await this.token();
        const callOptions: ChannelCallOptions = {
          ...(options.signal === undefined ? {} : { signal: options.signal }),
          ...(token === undefined ? {} : { token }),
        };
        return { endpoint, stream: open(endpoint, callOptions), token };
      } catch (err) {
        const failure = this.classify(err, endpoint);
        if (failure === undefined || !isRetryable(failure.error)) throw failure?.error ?? err;
        this.pool.markUnhealthy(endpoint);
        tried.add(endpoint);
        lastError = failure.error;
      }
    }
  }

  /** The token for the next call, or undefined without auth. */
  token(): Promise<string | undefined> {
    return this.auth === undefined ? Promise.resolve(undefined) : this.auth.token();
  }

  /** Connects `endpoint` ahead of a call (bounded by the dial timeout); rejects with a ChannelError marked unsent. */
  async dial(endpoint: Endpoint, deadline: number | undefined, signal: AbortSignal | undefined): Promise<void> {
    const channel = endpoint.channel;
    if (!isDialable(channel) || channel.isConnected()) return;
    const dialDeadline = Math.min(deadline ?? Infinity, Date.now() + this.settings.dialTimeoutMs);
    try {
      await abortable(channel.connect(dialDeadline), signal);
    } catch (err) {
      if (err instanceof ChannelError) throw new UnsentError(err);
      throw err;
    }
  }

  /** The typed error of a failed call, or undefined when it is not the server's or the transport's (an abort). */
  classify(err: unknown, endpoint: Endpoint): { error: EtcdError; unsent: boolean } | undefined {
    if (err instanceof UnsentError) return { error: new UnavailableError(err.cause.code, err.cause.details, endpoint.name), unsent: true };
    if (err instanceof ChannelError) return { error: etcdErrorFrom(err.code, err.details, endpoint.name), unsent: false };
    if (err instanceof UnavailableError || err instanceof InvalidAuthTokenError) return { error: err, unsent: false };
    return undefined;
  }
}

/** A dial that failed: the call never left. */
class UnsentError extends Error {
  constructor(override readonly cause: ChannelError) {
    super(cause.details);
  }
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
