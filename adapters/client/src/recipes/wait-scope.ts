/**
 * One AbortSignal for everything a recipe call does: it aborts when the caller's signal does,
 * when the call's timeout or deadline passes, and when the session is lost, each with its own
 * reason, so the call rejects with the caller's reason, a DeadlineExceededError or a
 * SessionLostError. Every RPC and watch a waiting recipe call makes runs under it.
 */
import type { CallOptions } from '../call-options.js';
import { DeadlineExceededError, GrpcCode, LeaseNotFoundError, SessionLostError } from '../errors.js';
import type { Session } from '../session.js';

export interface WaitScope {
  readonly signal: AbortSignal;
  /** Removes the listeners and the timer; call it when the recipe call settles. */
  dispose(): void;
}

/** The SessionLostError for a session that is lost (or closed), naming why. */
export function sessionLostError(session: Session): SessionLostError {
  const state = session.state;
  const why = state.kind === 'lost' ? state.reason : 'closed';
  return new SessionLostError(`session lost (lease ${session.lease.toString(16)}: ${why})`);
}

/** Whether the session can no longer back a recipe: its lease is lost or it was closed. */
export function isSessionGone(session: Session): boolean {
  return session.signal.aborted || session.state.kind === 'lost';
}

export function openWaitScope(session: Session | undefined, options: CallOptions = {}): WaitScope {
  const controller = new AbortController();
  const cleanups: (() => void)[] = [];
  const abort = (reason: unknown): void => {
    if (!controller.signal.aborted) controller.abort(reason);
  };
  const follow = (signal: AbortSignal, reason: () => unknown): void => {
    if (signal.aborted) {
      abort(reason());
      return;
    }
    const listener = (): void => abort(reason());
    signal.addEventListener('abort', listener, { once: true });
    cleanups.push(() => signal.removeEventListener('abort', listener));
  };
  if (session !== undefined) {
    if (session.state.kind === 'lost') abort(sessionLostError(session));
    else follow(session.signal, () => sessionLostError(session));
  }
  if (options.signal !== undefined) {
    const callerSignal = options.signal;
    follow(callerSignal, () => callerSignal.reason);
  }
  let deadline = options.deadline;
  if (options.timeoutMs !== undefined) {
    const byTimeout = Date.now() + options.timeoutMs;
    deadline = deadline === undefined ? byTimeout : Math.min(deadline, byTimeout);
  }
  if (deadline !== undefined && !controller.signal.aborted) {
    const timer = setTimeout(
      () => abort(new DeadlineExceededError(GrpcCode.DeadlineExceeded, 'recipe: deadline exceeded', '')),
      Math.max(0, deadline - Date.now()),
    );
    cleanups.push(() => clearTimeout(timer));
  }
  return {
    signal: controller.signal,
    dispose: () => {
      for (const cleanup of cleanups.splice(0)) cleanup();
    },
  };
}

/** Runs `body` under a fresh scope and disposes of it afterwards. */
export async function withWaitScope<T>(session: Session | undefined, options: CallOptions | undefined, body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const scope = openWaitScope(session, options);
  try {
    scope.signal.throwIfAborted();
    return await body(scope.signal);
  } catch (err) {
    // An RPC aborted by the scope may reject with its own wrapper; the scope's reason says why.
    if (scope.signal.aborted) throw scope.signal.reason;
    // The only lease a recipe call uses is its session's: the server says that lease is gone.
    if (session !== undefined && err instanceof LeaseNotFoundError) throw sessionLostError(session);
    throw err;
  } finally {
    scope.dispose();
  }
}
