import { PermissionType, type AuthInfo } from '../api/auth-types.js';
import type { DeleteRangeRequest, PutRequest, RequestOp, TxnRequest } from '../api/kv-types.js';
import type { AuthStore } from '../auth/auth-store.js';

const READ = PermissionType.Read;
const WRITE = PermissionType.Write;

/** Keys attached to a lease (a put under a lease, a revoke, needs write on each: etcd's checkLeasePuts). */
export type LeaseKeys = (lease: bigint) => readonly Uint8Array[];

/**
 * etcd's authApplierV3 checks of a user's write, made when the entry is applied, so a permission
 * revoked after the proposal still counts. Each throws etcd's error; all pass while auth is disabled.
 */
export class AuthApplyCheck {
  constructor(
    private readonly store: AuthStore,
    private readonly leaseKeys: LeaseKeys,
  ) {}

  put(caller: AuthInfo | undefined, r: PutRequest): void {
    this.store.checkPermitted(caller, r.key, undefined, WRITE);
    const lease = r.lease ?? 0n;
    if (lease !== 0n && r.ignoreLease !== true) this.leasePuts(caller, lease);
    if (r.prevKv === true) this.store.checkPermitted(caller, r.key, undefined, READ);
  }

  deleteRange(caller: AuthInfo | undefined, r: DeleteRangeRequest): void {
    this.store.checkPermitted(caller, r.key, r.rangeEnd, WRITE);
    if (r.prevKv === true) this.store.checkPermitted(caller, r.key, r.rangeEnd, READ);
  }

  /** Every compare and every operation of both branches, nested txns included. */
  txn(caller: AuthInfo | undefined, r: TxnRequest): void {
    for (const c of r.compare) this.store.checkPermitted(caller, c.key, c.rangeEnd, READ);
    this.ops(caller, r.success);
    this.ops(caller, r.failure);
  }

  /** A revoke deletes every attached key: write on each. */
  leasePuts(caller: AuthInfo | undefined, lease: bigint): void {
    for (const key of this.leaseKeys(lease)) this.store.checkPermitted(caller, key, undefined, WRITE);
  }

  private ops(caller: AuthInfo | undefined, ops: readonly RequestOp[]): void {
    for (const op of ops) {
      if ('requestRange' in op) this.store.checkPermitted(caller, op.requestRange.key, op.requestRange.rangeEnd, READ);
      else if ('requestPut' in op) this.store.checkPermitted(caller, op.requestPut.key, undefined, WRITE);
      else if ('requestDeleteRange' in op) this.deleteRange(caller, op.requestDeleteRange);
      else this.txn(caller, op.requestTxn);
    }
  }
}
