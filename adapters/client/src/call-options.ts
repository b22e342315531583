/** What every call accepts. */
export interface CallOptions {
  /** Aborts the call; it rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Fails the call with `DeadlineExceededError` after this many milliseconds. */
  timeoutMs?: number;
  /** Absolute deadline, milliseconds since the epoch; the earlier of this and `timeoutMs` wins. */
  deadline?: number;
}

/** The absolute deadline of a call started now, or undefined for none. */
export function deadlineOf(options: CallOptions | undefined, defaultTimeoutMs: number | undefined): number | undefined {
  const timeoutMs = options?.timeoutMs ?? (options?.deadline === undefined ? defaultTimeoutMs : undefined);
  const relative = timeoutMs === undefined || !Number.isFinite(timeoutMs) ? undefined : Date.now() + timeoutMs;
  const absolute = options?.deadline;
  if (relative === undefined) return absolute;
  if (absolute === undefined) return relative;
  return Math.min(relative, absolute);
}

/** A call's options as the raw calls take them. */
export interface RawCallOptions extends CallOptions {
  /**
   * Whether the call may safely run twice (reads, lease keep-alive, status…): then a failure of
   * the endpoint retries it on the next one. Default false: the caller gets the typed error.
   */
  idempotent?: boolean;
  /** Send to this endpoint alone (one of the client's), without failover. */
  endpoint?: string;
}
