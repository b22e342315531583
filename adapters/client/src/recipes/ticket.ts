/**
 * A ticket: a key a recipe creates under its session's lease to take its place in line, whose
 * create revision orders it among the others (RwMutex, Semaphore, DoubleBarrier). Taking,
 * confirming and dropping one are the same steps everywhere.
 */
import type { Bytes } from '../bytes.js';
import type { CallOptions } from '../call-options.js';
import type { Client } from '../client.js';
import type { ResponseHeader } from '../kv/kv-types.js';
import { Compare, Op } from '../kv/txn.js';
import type { Session } from '../session.js';
import { holdSignal } from './lease-bound-handle.js';
import { repeatOnOutage } from './repeat-on-outage.js';
import { keyValueOf, ONE_KEY, rangeAt } from './txn-results.js';
import { isSessionGone, sessionLostError } from './wait-scope.js';

export interface Ticket {
  readonly key: Buffer;
  readonly createRevision: bigint;
  readonly header: ResponseHeader;
}

/** What the holder of a granted ticket gets back. */
export interface HeldTicket {
  readonly key: Buffer;
  /** The ticket key's create revision: larger for every later grant under the same prefix. */
  readonly fencingToken: bigint;
  readonly header: ResponseHeader;
  /** Aborts with a SessionLostError when the session's lease is lost: the grant is gone then. */
  readonly signal: AbortSignal;
  /** Deletes the ticket key (only the one this grant created). */
  release(options?: CallOptions): Promise<void>;
}

/** How long removing a ticket after a failed wait may take before the lease is left to do it. */
export const TICKET_CLEANUP_TIMEOUT_MS = 5_000;

/** Creates `key` under the session's lease; the key is fresh (unique name), so the compare only guards against a clash. */
export async function takeTicket(session: Session, key: Buffer, value: Bytes, signal: AbortSignal): Promise<Ticket> {
  // Repeated after an outage, the create finds the key a lost answer created: ours if under our lease.
  const result = await repeatOnOutage(signal, () =>
    session.client
      .txn()
      .if(Compare.createRevision(key, '=', 0n))
      .then(Op.put(key, value, { lease: session.lease }))
      .else(Op.get(key, ONE_KEY))
      .commit({ signal }),
  );
  if (result.succeeded) return { key, createRevision: result.header.revision, header: result.header };
  const existing = keyValueOf(rangeAt(result.responses, 0).kvs, key);
  if (existing === undefined || existing.lease !== session.lease) throw new Error(`recipe: ticket key ${key.toString()} exists already`);
  return { key, createRevision: existing.createRevision, header: result.header };
}

/** After a wait: the ticket must still exist (it vanishes with the lease) and the session be alive. */
export async function confirmTicket(session: Session, ticket: Ticket, signal: AbortSignal): Promise<ResponseHeader> {
  const mine = await session.client.range(ticket.key, { ...ONE_KEY, signal });
  if (keyValueOf(mine.kvs, ticket.key)?.createRevision !== ticket.createRevision || isSessionGone(session)) throw sessionLostError(session);
  return mine.header;
}

/** Deletes the ticket if it is still the one created at its revision. */
export async function dropTicket(client: Client, ticket: Ticket, options: CallOptions = { timeoutMs: TICKET_CLEANUP_TIMEOUT_MS }): Promise<void> {
  await client
    .txn()
    .if(Compare.createRevision(ticket.key, '=', ticket.createRevision))
    .then(Op.delete(ticket.key))
    .commit(options);
}

export function heldTicket(session: Session, ticket: Ticket, header: ResponseHeader): HeldTicket {
  const hold = holdSignal(session);
  let released = false;
  return {
    key: ticket.key,
    fencingToken: ticket.createRevision,
    header,
    signal: hold.signal,
    release: async (options?: CallOptions) => {
      if (released) return;
      await dropTicket(session.client, ticket, options ?? {});
      released = true;
      hold.detach();
    },
  };
}

/** Runs `wait` for a taken ticket; on failure removes the ticket (best effort) and rethrows. */
export async function waitWithTicket<T>(session: Session, ticket: Ticket, wait: () => Promise<T>): Promise<T> {
  try {
    return await wait();
  } catch (err) {
    // With the session lost the lease removes the ticket; do not make the caller wait for that.
    const cleanup = dropTicket(session.client, ticket).catch(() => undefined);
    if (!isSessionGone(session)) await cleanup;
    throw err;
  }
}
