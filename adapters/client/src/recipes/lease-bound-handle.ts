/**
 * The signal a recipe hands to code that holds something (a lock, a permit, leadership): it
 * aborts with a SessionLostError as soon as the session's lease is lost or the session closed,
 * because from then on another session may hold the same thing.
 */
import type { Session } from '../session.js';
import { sessionLostError } from './wait-scope.js';

export interface HoldSignal {
  readonly signal: AbortSignal;
  /** Stops following the session (the hold ended normally). */
  detach(): void;
}

export function holdSignal(session: Session): HoldSignal {
  const controller = new AbortController();
  const onLost = (): void => controller.abort(sessionLostError(session));
  if (session.signal.aborted || session.state.kind === 'lost') {
    onLost();
    return { signal: controller.signal, detach: () => undefined };
  }
  session.signal.addEventListener('abort', onLost, { once: true });
  return { signal: controller.signal, detach: () => session.signal.removeEventListener('abort', onLost) };
}
