import { EtcdErrors } from '../api/errors.js';
import { CompareResult, CompareTarget, type RangeResponse, type ResponseHeader, type ResponseOp } from '../api/kv-types.js';
import { inject, injectable, optional } from 'inversify';
import { RaftKvService } from './kv-service.js';
import { RaftLeaseService } from './lease-service.js';
import { concatBytes, firstCreated, PrefixWaits } from './prefix-waits.js';
import type { KvService, LeaseService, LockService } from '../api/services.js';
import { ownerSuffix, sessionLease } from './session-lease.js';

const SLASH = Uint8Array.of(0x2f);
const EMPTY = new Uint8Array(0);

/**
 * etcd's Lock service (v3lockpb), served by the member with etcd's mutex recipe: the caller's key
 * is `name/<lease hex>`, attached to its lease; the caller holds the lock once every key under
 * `name/` created before its own is gone. The owner key's create revision only grows from one
 * holder to the next: it is a fencing token (see the README's "Locks").
 */
@injectable()
export class MemberLockService implements LockService {
  constructor(
    @inject(RaftKvService) private readonly kv: KvService,
    @inject(RaftLeaseService) @optional() private readonly leases: LeaseService | undefined,
    @inject(PrefixWaits) private readonly waits: PrefixWaits,
  ) {}

  async lock(name: Uint8Array, lease: bigint, signal?: AbortSignal): Promise<{ header: ResponseHeader; key: Uint8Array }> {
    const held = await sessionLease(lease, this.leases);
    const prefix = concatBytes(name, SLASH);
    const key = concatBytes(prefix, Buffer.from(ownerSuffix(held)));
    const created = { target: CompareTarget.Create, result: CompareResult.Equal, key, createRevision: 0 } as const;
    const txn = await this.kv.txn({
      compare: [created],
      success: [{ requestPut: { key, value: EMPTY, lease: held } }, { requestRange: firstCreated(prefix) }],
      failure: [{ requestRange: { key } }, { requestRange: firstCreated(prefix) }],
    });
    const mine = txn.succeeded ? txn.header.revision : rangeOf(txn.responses[0]).kvs[0]!.createRevision;
    const owner = rangeOf(txn.responses[1]).kvs[0];
    if (owner === undefined || owner.createRevision === mine) return { header: txn.header, key };
    let header: ResponseHeader;
    try {
      header = await this.waits.deletesBefore(prefix, mine - 1, signal);
    } catch (err) {
      // Given up (or failed): leave no key behind to block the next waiter.
      await this.kv.deleteRange({ key }).catch(() => undefined);
      throw err;
    }
    // Its lease may have ended while it waited, taking the key: then it holds nothing.
    const still = await this.kv.range({ key });
    if (still.kvs[0]?.createRevision !== mine) throw EtcdErrors.leaseNotFound();
    return { header, key };
  }

  async unlock(key: Uint8Array): Promise<{ header: ResponseHeader }> {
    const r = await this.kv.deleteRange({ key });
    return { header: r.header };
  }
}

/** The range answer of one txn operation (the recipes' txns put their ranges where they expect them). */
export function rangeOf(op: ResponseOp | undefined): RangeResponse {
  if (op === undefined || !('responseRange' in op)) throw new Error('txn answered without the expected range');
  return op.responseRange;
}
