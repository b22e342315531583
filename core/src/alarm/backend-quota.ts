import { inject, injectable } from 'inversify';
import { BACKEND, type Backend } from '../ports/backend.js';
import { CLOCK, type Clock } from '../ports/clock.js';
import { MEMBER_SETTINGS, type MemberSettings } from '../ports/member-settings.js';
import { NO_SPACE_ALARM, type NoSpaceAlarm } from './no-space-alarm.js';
import { EtcdErrors } from '../api/errors.js';
import type { PutRequest, RequestOp, TxnRequest } from '../api/kv-types.js';

/** etcd's default quota when `--quota-backend-bytes` is 0: 2 GiB. */
export const DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024;
/** What etcd charges a put beyond its key and value (index and revision bookkeeping). */
const PUT_OVERHEAD_BYTES = 256;
/** Sizes are read from the Backend at most this often: a size query may walk engine metadata. */
const SIZE_MAX_AGE_MS = 100;
/**
 * Free space a write must leave on the backend's file system. An engine that meets ENOSPC in the
 * middle of applying a committed entry cannot refuse it (every member must apply it alike), so the
 * member stops; refusing writes while this much is still free raises NOSPACE in time instead, and
 * leaves room for the engine's own bookkeeping (free lists, compactions) and for the log.
 */
export const DISK_RESERVE_BYTES = 32 * 1024 * 1024;

/** Bytes a put would add, as etcd estimates them. */
export function putCost(request: PutRequest): number {
  return PUT_OVERHEAD_BYTES + request.key.byteLength + request.value.byteLength;
}

function opsCost(ops: readonly RequestOp[]): number {
  let cost = 0;
  for (const op of ops) {
    if ('requestPut' in op) cost += putCost(op.requestPut);
    else if ('requestTxn' in op) cost += txnCost(op.requestTxn);
  }
  return cost;
}

/** Only one branch of a txn runs: the dearer one counts. */
export function txnCost(request: TxnRequest): number {
  return Math.max(opsCost(request.success), opsCost(request.failure));
}

interface Measured {
  readonly inUse: number;
  readonly available: number | undefined;
  readonly at: number;
}

/**
 * `--quota-backend-bytes`: a write that would grow the backend past the quota raises the NOSPACE
 * alarm (through Raft, so every member caps writes) and fails with etcd's error. The size compared
 * is the space the data occupies (`inUse`), not the file: engines here differ in whether they hand
 * free pages back to the file system, and an operator's compact + defrag + disarm must work on all.
 * The disk counts too, quota or not: a write that would leave less than DISK_RESERVE_BYTES free on
 * the backend's file system does the same, so a filling disk gives NOSPACE, not a crash.
 */
@injectable()
export class BackendQuota {
  private readonly limit: number;
  private measured: Measured | undefined;
  private measuring: Promise<Measured> | undefined;

  /** `quotaBackendBytes` as the flag: 0 means etcd's default, a negative value turns the quota off. */
  constructor(
    @inject(BACKEND) private readonly backend: Backend,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(MEMBER_SETTINGS) settings: Pick<MemberSettings, 'quotaBackendBytes'>,
    @inject(NO_SPACE_ALARM) private readonly noSpace: NoSpaceAlarm,
  ) {
    const quotaBytes = settings.quotaBackendBytes;
    this.limit = quotaBytes === 0 ? DEFAULT_QUOTA_BYTES : quotaBytes;
  }

  get quotaBytes(): number {
    return this.limit;
  }

  /** Resolves when `cost` more bytes fit; otherwise raises NOSPACE and rejects with etcd's error. */
  async admit(cost: number): Promise<void> {
    if (cost === 0) return;
    const { inUse, available } = await this.measure();
    const overQuota = this.limit >= 0 && inUse + cost >= this.limit;
    const diskFull = available !== undefined && available - cost < DISK_RESERVE_BYTES;
    if (!overQuota && !diskFull) return;
    await this.noSpace.raise();
    throw EtcdErrors.noSpace();
  }

  private async measure(): Promise<Measured> {
    const now = this.clock.now();
    if (this.measured !== undefined && now - this.measured.at < SIZE_MAX_AGE_MS) return this.measured;
    this.measuring ??= this.backend
      .size()
      .then((size) => {
        this.measured = { inUse: size.inUse, available: size.available, at: this.clock.now() };
        return this.measured;
      })
      .finally(() => {
        this.measuring = undefined;
      });
    return this.measuring;
  }
}
