/**
 * A read-write lock in the layout of etcd's contrib/recipes RWMutex: readers put
 * `<prefix>/read/<unique>`, writers `<prefix>/write/<unique>`, each under its session's lease.
 * Order is by create revision: a reader holds once no writer key older than its own remains; a
 * writer holds once no key at all older than its own remains. So readers share, a writer is
 * alone, and a writer is never starved by readers that arrive after it (fair, first come first
 * served by create revision).
 *
 * Failure: a waiting call rejects with the caller's reason, a DeadlineExceededError, or a
 * SessionLostError when the session's lease is lost, removing its key when it can. A holder's
 * `signal` aborts with SessionLostError when the lease is lost; `fencingToken` is its key's
 * create revision (see Mutex for how a resource uses it).
 */
import type { Bytes } from '../bytes.js';
import type { CallOptions } from '../call-options.js';
import type { Session } from '../session.js';
import { child, slashed, uniqueName } from './recipe-keys.js';
import { confirmTicket, dropTicket, heldTicket, takeTicket, waitWithTicket, type HeldTicket } from './ticket.js';
import { waitDeletes } from './wait-events.js';
import { withWaitScope } from './wait-scope.js';

export type RwLockMode = 'read' | 'write';

export interface RwLockHandle extends HeldTicket {
  readonly mode: RwLockMode;
  /** Releases the lock (the same as `release`). */
  unlock(options?: CallOptions): Promise<void>;
}

export class RwMutex {
  readonly prefix: Buffer;
  private readonly readers: Buffer;
  private readonly writers: Buffer;

  constructor(
    readonly session: Session,
    prefix: Bytes,
  ) {
    this.prefix = slashed(prefix);
    this.readers = child(this.prefix, 'read/');
    this.writers = child(this.prefix, 'write/');
  }

  /** Waits for a shared hold: no older writer remains. */
  readLock(options?: CallOptions): Promise<RwLockHandle> {
    return this.acquire('read', true, options) as Promise<RwLockHandle>;
  }

  /** Waits for an exclusive hold: no older reader or writer remains. */
  writeLock(options?: CallOptions): Promise<RwLockHandle> {
    return this.acquire('write', true, options) as Promise<RwLockHandle>;
  }

  /** A shared hold if it can be had now, undefined otherwise. */
  tryReadLock(options?: CallOptions): Promise<RwLockHandle | undefined> {
    return this.acquire('read', false, options);
  }

  /** An exclusive hold if it can be had now, undefined otherwise. */
  tryWriteLock(options?: CallOptions): Promise<RwLockHandle | undefined> {
    return this.acquire('write', false, options);
  }

  private acquire(mode: RwLockMode, wait: boolean, options: CallOptions | undefined): Promise<RwLockHandle | undefined> {
    return withWaitScope(this.session, options, async (signal) => {
      const client = this.session.client;
      const dir = mode === 'read' ? this.readers : this.writers;
      const ticket = await takeTicket(this.session, child(dir, uniqueName(this.session.lease)), '', signal);
      // Readers wait for older writers only; writers for every older key under the prefix.
      const blockers = mode === 'read' ? this.writers : this.prefix;
      if (!wait) {
        // Not countOnly: etcd's count ignores the create-revision filter, the returned keys honour it.
        const older = await client.range(blockers, { prefix: true, maxCreateRevision: ticket.createRevision - 1n, keysOnly: true, limit: 1, signal });
        if (older.kvs.length > 0) {
          await dropTicket(client, ticket).catch(() => undefined);
          return undefined;
        }
        return handleOf(mode, heldTicket(this.session, ticket, older.header));
      }
      const header = await waitWithTicket(this.session, ticket, async () => {
        await waitDeletes(client, blockers, ticket.createRevision - 1n, signal);
        return confirmTicket(this.session, ticket, signal);
      });
      return handleOf(mode, heldTicket(this.session, ticket, header));
    });
  }
}

function handleOf(mode: RwLockMode, held: HeldTicket): RwLockHandle {
  return { ...held, mode, unlock: (options?: CallOptions) => held.release(options) };
}
