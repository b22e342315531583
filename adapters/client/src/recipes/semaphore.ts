/**
 * A counting semaphore: each acquirer puts `<prefix>/<unique>` under its session's lease, and the
 * `permits` keys with the lowest create revisions hold a permit. An acquirer waits (watching the
 * prefix for deletions) until fewer than `permits` keys older than its own remain, so permits
 * are granted first come, first served.
 *
 * Guarantees: at any revision at most `permits` keys are among the oldest `permits`, so at most
 * `permits` holders at once, provided every acquirer uses the same `permits` for the prefix
 * (mixing counts on one prefix breaks the bound; nothing checks it).
 *
 * Failure: a waiting `acquire()` rejects with the caller's reason, a DeadlineExceededError, or a
 * SessionLostError when the session's lease is lost, removing its key when it can. A holder whose
 * lease expires loses its permit at that revision; its `signal` aborts with SessionLostError.
 */
import type { Bytes } from '../bytes.js';
import type { CallOptions } from '../call-options.js';
import type { Session } from '../session.js';
import { child, slashed, uniqueName } from './recipe-keys.js';
import { confirmTicket, dropTicket, heldTicket, takeTicket, waitWithTicket, type HeldTicket, type Ticket } from './ticket.js';
import { awaitEvent } from './wait-events.js';
import { withWaitScope } from './wait-scope.js';

export type Permit = HeldTicket;

export class Semaphore {
  readonly prefix: Buffer;

  constructor(
    readonly session: Session,
    prefix: Bytes,
    readonly permits: number,
  ) {
    if (!Number.isInteger(permits) || permits < 1) throw new RangeError(`Semaphore: permits must be a positive integer, got ${permits}`);
    this.prefix = slashed(prefix);
  }

  /** Waits for a permit. */
  acquire(options?: CallOptions): Promise<Permit> {
    return this.take(true, options) as Promise<Permit>;
  }

  /** A permit if one is free now, undefined otherwise (leaving no key behind). */
  tryAcquire(options?: CallOptions): Promise<Permit | undefined> {
    return this.take(false, options);
  }

  /** How many keys (holders and waiters) are under the prefix now. */
  async count(options?: CallOptions): Promise<bigint> {
    const all = await this.session.client.range(this.prefix, { ...options, prefix: true, countOnly: true });
    return all.count;
  }

  private take(wait: boolean, options: CallOptions | undefined): Promise<Permit | undefined> {
    return withWaitScope(this.session, options, async (signal) => {
      const ticket = await takeTicket(this.session, child(this.prefix, uniqueName(this.session.lease)), '', signal);
      if (!wait) {
        const older = await this.olderThan(ticket, signal);
        if (older.kvs.length >= this.permits) {
          await dropTicket(this.session.client, ticket).catch(() => undefined);
          return undefined;
        }
        return heldTicket(this.session, ticket, older.header);
      }
      const header = await waitWithTicket(this.session, ticket, async () => {
        for (;;) {
          const older = await this.olderThan(ticket, signal);
          if (older.kvs.length < this.permits) return confirmTicket(this.session, ticket, signal);
          // Any deletion under the prefix may free a place ahead of us: count again after it.
          await awaitEvent(this.session.client, this.prefix, { prefix: true, startRevision: older.header.revision + 1n }, signal, (e) => e.type === 'delete');
        }
      });
      return heldTicket(this.session, ticket, header);
    });
  }

  /**
   * Up to `permits` keys created before the ticket. (Not countOnly: etcd's count ignores the
   * create-revision filter, only the returned keys honour it.)
   */
  private olderThan(ticket: Ticket, signal: AbortSignal) {
    const older = { prefix: true, maxCreateRevision: ticket.createRevision - 1n, keysOnly: true, limit: this.permits };
    return this.session.client.range(this.prefix, { ...older, signal });
  }
}
