import { constants } from 'node:os';

/** How lmdb-js rejects a failed commit: a generic error whose `commitError` is a promise rejected with the engine's error. */
interface LmdbCommitRejection {
  readonly commitError?: Promise<unknown>;
}

const errnoNames = new Map<number, string>(Object.entries(constants.errno).map(([name, number]) => [number, name]));

/**
 * The real cause of a failed LMDB commit, as Node's fs errors carry it: lmdb-js rejects with
 * "Commit failed" and keeps the engine's error (a numeric errno such as 5, EIO, or 28, ENOSPC) in a
 * promise of its own, which would go unhandled, ending the process, if nobody awaited it.
 */
export async function commitFailure(err: unknown, file: string): Promise<Error> {
  const error = err instanceof Error ? err : new Error(String(err));
  const detail = (error as Error & LmdbCommitRejection).commitError;
  if (detail === undefined) return error;
  const cause = await detail.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(cause instanceof Error)) return error;
  const errno = (cause as { code?: unknown }).code;
  const code = typeof errno === 'number' ? errnoNames.get(errno) : typeof errno === 'string' ? errno : undefined;
  return Object.assign(new Error(`${code === undefined ? '' : `${code}: `}${cause.message}, LMDB commit of ${file}`), {
    ...(code === undefined ? {} : { code }),
    ...(typeof errno === 'number' ? { errno: -errno } : {}),
    syscall: 'commit',
    cause,
  });
}
