import { inject, injectable, optional } from 'inversify';
import { AlarmRegistry } from '../alarm/alarm-registry.js';
import { MemberRegistry } from '../cluster/member-registry.js';
import { LeaseApplier } from '../lease/lease-applier.js';
import type { StateMachine, StateMachineSnapshot } from '../raft/state-machine.js';
import type { ConfChange, MemberId, SnapshotMeta } from '../protocol/raft-types.js';
import { EtcdErrors } from '../api/errors.js';
import { AlarmType } from '../api/services.js';
import type { RequestOp, TxnRequest } from '../api/kv-types.js';
import { decodeKvCommand } from './kv-command.js';
import { MvccStore, type ApplyOutcome } from '../mvcc/mvcc-store.js';
import { AuthApplier } from '../auth/auth-applier.js';
import { AuthStore } from '../auth/auth-store.js';
import { AuthApplyCheck } from './auth-apply-check.js';

function writes(ops: readonly RequestOp[]): boolean {
  return ops.some((op) => 'requestPut' in op || 'requestDeleteRange' in op || ('requestTxn' in op && txnWrites(op.requestTxn)));
}
const txnWrites = (t: TxnRequest): boolean => writes(t.success) || writes(t.failure);

/** Applies committed KV commands to the MVCC store; what apply returns goes to the proposer. */
@injectable()
export class KvStateMachine implements StateMachine {
  /** Absent on a member built without auth: then no write is checked. */
  private readonly authCheck: AuthApplyCheck | undefined;

  constructor(
    @inject(MvccStore) private readonly store: MvccStore,
    @inject(AlarmRegistry) private readonly alarms: AlarmRegistry,
    @inject(MemberRegistry) @optional() private readonly members?: MemberRegistry,
    @inject(LeaseApplier) @optional() private readonly leases?: LeaseApplier,
    @inject(AuthStore) @optional() private readonly authStore?: AuthStore,
    @inject(AuthApplier) @optional() private readonly auth?: AuthApplier,
  ) {
    this.authCheck = authStore === undefined ? undefined : new AuthApplyCheck(authStore, (lease) => leases?.leases.keys(lease) ?? []);
  }

  async apply(index: number, payload: Uint8Array): Promise<ApplyOutcome<unknown>> {
    const command = decodeKvCommand(payload);
    // etcd's authApplierV3: a user's write is checked against the auth store as it is when applied.
    const check = this.authStore?.enabled === true ? this.authCheck : undefined;
    const caller = command.caller;
    // Out of space: etcd refuses what could grow the store, and still allows deletes and compaction.
    const capped = this.alarms.isRaised(AlarmType.NoSpace);
    try {
      switch (command.op) {
        case 'put':
          check?.put(caller, command.request);
          break;
        case 'deleteRange':
          check?.deleteRange(caller, command.request);
          break;
        case 'txn':
          check?.txn(caller, command.request);
          break;
        case 'leaseRevoke':
          // Without a caller it is the leader's revoke of an expired lease, which needs no permission.
          if (caller !== undefined) check?.leasePuts(caller, command.id);
          break;
      }
    } catch (err) {
      return this.refuse(index, err as Error);
    }
    switch (command.op) {
      case 'put':
        if (capped) return this.refuse(index, EtcdErrors.noSpace());
        return this.store.put(index, command.request);
      case 'deleteRange':
        return this.store.deleteRange(index, command.request);
      case 'txn':
        if (capped && txnWrites(command.request)) return this.refuse(index, EtcdErrors.noSpace());
        return this.store.txn(index, command.request);
      case 'compact':
        return this.store.compact(index, command.request.revision);
      case 'alarm': {
        const { ops, changed } = this.alarms.change(command.action, command.memberId, command.alarm);
        await this.store.writeMeta(index, ops);
        return { ok: changed };
      }
      case 'publishMember':
        await this.store.writeMeta(index, this.members?.publish(command.memberId, command.name, command.clientURLs) ?? []);
        return { ok: true };
      case 'leaseGrant':
      case 'leaseRevoke':
      case 'leaseRenew':
      case 'leaseCheckpoint':
        // A member built without leases knows none (a put naming one fails the same way).
        if (this.leases === undefined) return this.refuse(index, EtcdErrors.leaseNotFound());
        return this.leases.apply(index, command, capped);
      default:
        // A member built without auth refuses auth changes as etcd refuses them with auth unsupported.
        if (this.auth === undefined) return this.refuse(index, EtcdErrors.authNotEnabled());
        return this.auth.apply(index, command, caller);
    }
  }

  private async refuse(index: number, error: Error): Promise<ApplyOutcome<never>> {
    await this.store.skip(index);
    return { error };
  }

  skip(index: number): Promise<void> {
    return this.store.skip(index);
  }

  async applyConfChange(index: number, change: ConfChange): Promise<void> {
    await this.store.writeMeta(index, this.members?.applyConfChange(change) ?? []);
  }

  memberPeerUrls(): ReadonlyMap<MemberId, readonly string[]> {
    return this.members?.peerUrls() ?? new Map();
  }

  wasRemoved(id: MemberId): boolean {
    return this.members?.wasRemoved(id) ?? false;
  }

  async appliedIndex(): Promise<number | undefined> {
    // A restore cut short left the store half old, half new: the driver must restore again.
    return this.store.restoreInterrupted ? undefined : this.store.appliedIndex;
  }

  flush(): Promise<void> {
    return this.store.flush();
  }

  snapshot(): StateMachineSnapshot {
    return this.store.snapshot();
  }

  async restore(meta: SnapshotMeta, data: AsyncIterable<Uint8Array>): Promise<void> {
    await this.store.restore(data, meta.index);
    await this.alarms.load();
    await this.members?.load();
    await this.leases?.load();
    await this.auth?.load();
  }
}
