/**
 * A double barrier in the layout of etcd's contrib/recipes DoubleBarrier: each participant puts
 * `<prefix>/waiters/<unique>` under its session's lease; `enter()` returns once `count`
 * participants have entered (the one that completes the count puts `<prefix>/ready`), `leave()`
 * returns once every participant has left (the oldest participant leaves last and deletes
 * `<prefix>/ready`).
 *
 * Guarantees: no `enter()` returns before `count` waiter keys existed at one revision; no
 * `leave()` returns while another participant's waiter key remains.
 *
 * Failure: a participant whose session is lost has its waiter key deleted with the lease, so the
 * others' `leave()` proceeds without it (that is why the keys are leased); its own waiting call
 * rejects with SessionLostError. `enter()` by one participant too many rejects with
 * TooManyClientsError and removes its key. A participant that dies before the count is reached
 * leaves the others waiting in `enter()` until a replacement enters (use a timeout).
 */
import type { Bytes } from '../bytes.js';
import type { CallOptions } from '../call-options.js';
import type { KeyValue } from '../kv/kv-types.js';
import { Compare, Op } from '../kv/txn.js';
import type { Session } from '../session.js';
import { child, slashed, uniqueName } from './recipe-keys.js';
import { RecipeStateError, TooManyClientsError } from './recipe-errors.js';
import { dropTicket, takeTicket, waitWithTicket, type Ticket } from './ticket.js';
import { repeatOnOutage } from './repeat-on-outage.js';
import { keyValueOf, ONE_KEY } from './txn-results.js';
import { awaitEvent } from './wait-events.js';
import { withWaitScope } from './wait-scope.js';

export class DoubleBarrier {
  readonly prefix: Buffer;
  private readonly waiters: Buffer;
  private readonly ready: Buffer;
  private ticket: Ticket | undefined;

  constructor(
    readonly session: Session,
    prefix: Bytes,
    readonly count: number,
  ) {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`DoubleBarrier: count must be a positive integer, got ${count}`);
    this.prefix = slashed(prefix);
    this.waiters = child(this.prefix, 'waiters/');
    this.ready = child(this.prefix, 'ready');
  }

  /** Joins the barrier and waits until `count` participants have joined. */
  enter(options?: CallOptions): Promise<void> {
    return withWaitScope(this.session, options, async (signal) => {
      const client = this.session.client;
      const ticket = await takeTicket(this.session, child(this.waiters, uniqueName(this.session.lease)), '', signal);
      await waitWithTicket(this.session, ticket, async () => {
        const joined = await client.range(this.waiters, { prefix: true, countOnly: true, signal });
        if (joined.count > BigInt(this.count)) throw new TooManyClientsError(this.count);
        if (joined.count === BigInt(this.count)) {
          await repeatOnOutage(signal, () => client.put(this.ready, '', { signal }));
          return;
        }
        for (;;) {
          const event = await awaitEvent(client, this.ready, { startRevision: ticket.createRevision + 1n }, signal, (e) => e.type === 'put');
          if (event !== 'compacted') return;
          if (keyValueOf((await client.range(this.ready, { ...ONE_KEY, signal })).kvs, this.ready) !== undefined) return;
        }
      });
      this.ticket = ticket;
    });
  }

  /** Leaves the barrier and waits until every participant has left. */
  leave(options?: CallOptions): Promise<void> {
    const ticket = this.ticket;
    if (ticket === undefined) return Promise.reject(new RecipeStateError('DoubleBarrier.leave: enter() first'));
    return withWaitScope(this.session, options, async (signal) => {
      const client = this.session.client;
      let left = false;
      for (;;) {
        const present = await client.range(this.waiters, { prefix: true, signal });
        if (present.kvs.length === 0) break;
        const mine = present.kvs.find((kv) => kv.key.equals(ticket.key));
        if (mine !== undefined && present.kvs.length === 1) {
          // The last one out lowers the ready flag for the next round.
          await client
            .txn()
            .if(Compare.createRevision(ticket.key, '=', ticket.createRevision))
            .then(Op.delete(this.ready), Op.delete(ticket.key))
            .commit({ signal });
          break;
        }
        const lowest = byCreate(present.kvs, (a, b) => a < b);
        let awaited = lowest;
        if (mine !== undefined && lowest.key.equals(mine.key)) {
          // The oldest participant leaves last: it waits for the newest to go, then looks again.
          awaited = byCreate(present.kvs, (a, b) => a > b);
        } else if (mine !== undefined && !left) {
          await dropTicket(client, ticket, { signal });
          left = true;
        }
        await awaitEvent(client, awaited.key, { startRevision: present.header.revision + 1n }, signal, (e) => e.type === 'delete');
      }
      this.ticket = undefined;
    });
  }
}

function byCreate(kvs: readonly KeyValue[], better: (a: bigint, b: bigint) => boolean): KeyValue {
  let chosen = kvs[0]!;
  for (const kv of kvs) if (better(kv.createRevision, chosen.createRevision)) chosen = kv;
  return chosen;
}
