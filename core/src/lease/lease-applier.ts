import { inject, injectable } from 'inversify';
import { MvccStore, type ApplyOutcome } from '../mvcc/mvcc-store.js';
import { RESPONSE_HEADERS, type ResponseHeaders } from '../api/response-headers.js';
import { EtcdErrors } from '../api/errors.js';
import type { BackendOp } from '../ports/backend.js';
import type { ResponseHeader } from '../api/kv-types.js';
import { checkpointsOf, type LeaseCheckpoint, type LeaseCommand } from './lease-command.js';
import { LeaseStore, type LeaseRecord } from './lease-store.js';

/** What an applied lease entry changed, for the member's lessor (its expiry clock). */
export type LeaseApplyEvent =
  | { readonly type: 'grant'; readonly record: LeaseRecord }
  | { readonly type: 'revoke'; readonly id: bigint }
  /** Keep-alives a follower sent through the log (their checkpoints are cleared). */
  | { readonly type: 'renew'; readonly ids: readonly bigint[] }
  /** Remaining TTLs the leader replicated (0: cleared, the whole TTL again), of leases that still exist. */
  | { readonly type: 'checkpoint'; readonly checkpoints: readonly LeaseCheckpoint[] }
  /** The leases were read again from the Backend (a snapshot replaced them): no grant or revoke events for what changed. */
  | { readonly type: 'reload' };

/** What applying a grant answers the proposer. */
export interface GrantOutcome {
  readonly header: ResponseHeader;
  readonly id: bigint;
  readonly ttl: number;
}

/**
 * Applies lease entries: grants and revokes change the lease store and the Backend (a revoke
 * deletes every attached key in one MVCC revision, in the same batch as the lease record);
 * checkpoints record each lease's remaining TTL with it, and renewals clear that, then tell the
 * lessor. Everything here is deterministic: the same log gives every member the same leases,
 * remaining TTLs and keys.
 */
@injectable()
export class LeaseApplier {
  private readonly listeners: ((event: LeaseApplyEvent) => void)[] = [];

  constructor(
    @inject(MvccStore) private readonly store: MvccStore,
    @inject(LeaseStore) readonly leases: LeaseStore,
    @inject(RESPONSE_HEADERS) private readonly headers: ResponseHeaders,
  ) {
    store.onCommit((events) => leases.observe(events));
  }

  /** Reload the leases and their keys from the Backend (at open, and after a snapshot was restored). */
  async load(): Promise<void> {
    await this.leases.load(this.store.leasedKeys());
    this.emit({ type: 'reload' });
  }

  onApplied(listener: (event: LeaseApplyEvent) => void): void {
    this.listeners.push(listener);
  }

  /** `capped`: the NOSPACE alarm is raised, which refuses grants as etcd does. */
  async apply(index: number, command: LeaseCommand, capped: boolean): Promise<ApplyOutcome<unknown>> {
    switch (command.op) {
      case 'leaseGrant': {
        if (capped) return this.refuse(index, EtcdErrors.noSpace());
        if (command.id === 0n) return this.refuse(index, EtcdErrors.leaseNotFound());
        if (this.leases.exists(command.id)) return this.refuse(index, EtcdErrors.leaseExist());
        const record = { id: command.id, ttl: command.ttl };
        await this.store.writeMeta(index, this.leases.grant(record));
        this.emit({ type: 'grant', record });
        const ok: GrantOutcome = { header: this.headers.header(this.store.currentRevision), id: record.id, ttl: record.ttl };
        return { ok };
      }
      case 'leaseRevoke': {
        if (!this.leases.exists(command.id)) return this.refuse(index, EtcdErrors.leaseNotFound());
        const outcome = await this.store.deleteKeys(index, this.leases.keys(command.id), this.leases.revokeOps(command.id));
        this.leases.forget(command.id);
        this.emit({ type: 'revoke', id: command.id });
        return outcome;
      }
      case 'leaseRenew': {
        const live = command.ids.filter((id) => this.leases.exists(id));
        // A renewed lease has its whole TTL again, also for a leader elected after this entry.
        await this.writeOrSkip(
          index,
          live.flatMap((id) => this.leases.checkpoint(id, 0)),
        );
        this.emit({ type: 'renew', ids: live });
        // Per lease, the TTL it was renewed to, 0 for one that is gone (etcd's keep-alive answer).
        const ttls = new Map<bigint, number>(command.ids.map((id) => [id, this.leases.get(id)?.ttl ?? 0]));
        return { ok: ttls };
      }
      case 'leaseCheckpoint': {
        const live = checkpointsOf(command).filter((checkpoint) => this.leases.exists(checkpoint.id));
        await this.writeOrSkip(
          index,
          live.flatMap((checkpoint) => this.leases.checkpoint(checkpoint.id, checkpoint.remainingMs)),
        );
        this.emit({ type: 'checkpoint', checkpoints: live });
        return { ok: live.length };
      }
    }
  }

  /** Record the entry as applied, with `ops` when there are any. */
  private writeOrSkip(index: number, ops: readonly BackendOp[]): Promise<void> {
    return ops.length === 0 ? this.store.skip(index) : this.store.writeMeta(index, ops);
  }

  private async refuse(index: number, error: Error): Promise<ApplyOutcome<never>> {
    await this.store.skip(index);
    return { error };
  }

  private emit(event: LeaseApplyEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
