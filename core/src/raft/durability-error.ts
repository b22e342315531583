/**
 * A write of the Raft log or of the stable state failed, so what it carried may or may not be on
 * disk. As in etcd this is fatal to the member: it acknowledged nothing in that write, and it must
 * not go on with a log whose durability is unknown. The member stops; a supervisor restarts it,
 * and the restart recovers from what is durable (a torn tail is cut off, never acknowledged).
 */
export class DurabilityError extends Error {
  /** The errno code of the failure (EIO, ENOSPC, ...), when it had one. */
  readonly code: string | undefined;

  constructor(
    /** What could not be made durable, e.g. "the Raft log append of entries 12..14". */
    readonly what: string,
    override readonly cause: Error,
  ) {
    const code = (cause as NodeJS.ErrnoException).code;
    super(
      `${what} failed${code === undefined ? '' : ` (${code})`}: ${cause.message}; nothing it carried was acknowledged, the member stops (restart it: it recovers from what is durable)`,
    );
    this.name = 'DurabilityError';
    this.code = code;
  }
}

/** `write`, with a failure turned into a DurabilityError naming `what`. */
export function durably(what: () => string, write: Promise<void>): Promise<void> {
  return write.catch((err: unknown) => {
    throw new DurabilityError(what(), err instanceof Error ? err : new Error(String(err)));
  });
}
