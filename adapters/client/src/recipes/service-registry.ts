/**
 * Service discovery: each instance registers its value at `<prefix>/<instance id>` under its
 * session's lease, so it disappears when the instance stops renewing (crash, partition, close);
 * `follow()` yields the live set — a Map from instance id to its key-value — first as read, then
 * after every revision that changed it (one range, then a watch from its revision + 1; a
 * compaction of that revision makes it read the set again).
 *
 * Guarantees: each yielded map is the exact set of registered keys at one revision, maps come in
 * revision order, and none is skipped except during a re-read after compaction. An instance id is
 * owned by one lease: registering an id another live lease holds fails.
 *
 * Failure: an instance whose lease expires leaves the set at the revision of the expiry (up to
 * the TTL after it died); its own `registration.signal` aborts with SessionLostError once its
 * session knows it is lost (register again on a new session). `follow()` is not tied to a session:
 * it ends when the caller stops iterating, and throws the signal's reason when it aborts.
 */
import type { Bytes } from '../bytes.js';
import type { CallOptions } from '../call-options.js';
import type { KeyValue, ResponseHeader } from '../kv/kv-types.js';
import { Compare, Op } from '../kv/txn.js';
import type { Session } from '../session.js';
import { holdSignal } from './lease-bound-handle.js';
import { mirrorPrefix } from './prefix-mirror.js';
import { RecipeStateError } from './recipe-errors.js';
import { child, nameUnder, slashed } from './recipe-keys.js';
import { clientOf, sessionOf, type RecipeTarget } from './recipe-target.js';
import { keyValueOf, ONE_KEY, rangeAt } from './txn-results.js';
import { openWaitScope } from './wait-scope.js';

export interface Registration {
  readonly id: string;
  readonly key: Buffer;
  readonly header: ResponseHeader;
  /** Aborts with a SessionLostError when the registering session's lease is lost. */
  readonly signal: AbortSignal;
  /** Replaces the instance's value (still under its lease). */
  update(value: Bytes, options?: CallOptions): Promise<void>;
  /** Removes the instance now rather than at lease expiry. */
  deregister(options?: CallOptions): Promise<void>;
}

export interface RegisterOptions extends CallOptions {
  /** The session whose lease carries the registration (default: the registry's own session). */
  session?: Session;
}

export class ServiceRegistry {
  readonly prefix: Buffer;

  constructor(
    readonly target: RecipeTarget,
    prefix: Bytes,
  ) {
    this.prefix = slashed(prefix);
  }

  /** Registers `instanceId` with `value` under the session's lease. */
  async register(instanceId: string, value: Bytes, options: RegisterOptions = {}): Promise<Registration> {
    const { session: given, ...call } = options;
    const session = given ?? sessionOf(this.target);
    if (session === undefined) throw new TypeError("ServiceRegistry.register needs a Session (the registry's or options.session)");
    if (instanceId === '' || instanceId.includes('/')) throw new RangeError(`ServiceRegistry: bad instance id ${JSON.stringify(instanceId)}`);
    const key = child(this.prefix, instanceId);
    const client = session.client;
    const put = (v: Bytes) => Op.put(key, v, { lease: session.lease });
    // Free, or already ours (a re-registration on the same lease): take it; otherwise refuse.
    const result = await client
      .txn()
      .if(Compare.version(key, '=', 0n))
      .then(put(value))
      .else(Op.get(key, ONE_KEY))
      .commit(call);
    let header = result.header;
    if (!result.succeeded) {
      const holder = keyValueOf(rangeAt(result.responses, 0).kvs, key);
      if (holder !== undefined && holder.lease !== session.lease)
        throw new RecipeStateError(`ServiceRegistry: instance ${instanceId} is registered by lease ${holder.lease.toString(16)}`);
      header = (
        await client
          .txn()
          .if(Compare.lease(key, '=', session.lease))
          .then(put(value))
          .commit(call)
      ).header;
    }
    const hold = holdSignal(session);
    return {
      id: instanceId,
      key,
      header,
      signal: hold.signal,
      update: async (next: Bytes, updateOptions?: CallOptions) => {
        const updated = await client
          .txn()
          .if(Compare.lease(key, '=', session.lease))
          .then(put(next))
          .commit(updateOptions);
        if (!updated.succeeded) throw new RecipeStateError(`ServiceRegistry: instance ${instanceId} is no longer registered by this session`);
      },
      deregister: async (deregisterOptions?: CallOptions) => {
        await client
          .txn()
          .if(Compare.lease(key, '=', session.lease))
          .then(Op.delete(key))
          .commit(deregisterOptions);
        hold.detach();
      },
    };
  }

  /** The live set now. */
  async instances(options?: CallOptions): Promise<Map<string, KeyValue>> {
    const result = await clientOf(this.target).range(this.prefix, { ...options, prefix: true });
    return this.mapOf(result.kvs);
  }

  /** The live set, then again after each revision that changed it. */
  async *follow(options?: CallOptions): AsyncGenerator<Map<string, KeyValue>, void, undefined> {
    const scope = openWaitScope(undefined, options);
    try {
      let live = new Map<string, KeyValue>();
      for await (const update of mirrorPrefix(clientOf(this.target), this.prefix, scope.signal)) {
        if (update.kind === 'snapshot') {
          live = this.mapOf(update.kvs);
        } else {
          for (const event of update.events) {
            const id = nameUnder(this.prefix, event.kv.key);
            if (id === undefined) continue;
            if (event.type === 'put') live.set(id, event.kv);
            else live.delete(id);
          }
        }
        yield new Map(live);
      }
    } finally {
      scope.dispose();
    }
  }

  private mapOf(kvs: readonly KeyValue[]): Map<string, KeyValue> {
    const map = new Map<string, KeyValue>();
    for (const kv of kvs) {
      const id = nameUnder(this.prefix, kv.key);
      if (id !== undefined) map.set(id, kv);
    }
    return map;
  }
}
