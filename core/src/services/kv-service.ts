import { inject, injectable } from 'inversify';
import { BackendQuota, putCost, txnCost } from '../alarm/backend-quota.js';
import { encodeKvCommand, type KvCommand } from '../apply/kv-command.js';
import { MvccStore, type ApplyOutcome } from '../mvcc/mvcc-store.js';
import { CONSENSUS, type Consensus } from '../raft/consensus.js';
import { MEMBER_SETTINGS } from '../ports/member-settings.js';
import { EtcdErrors } from '../api/errors.js';
import { LeaderWait } from './leader-wait.js';
import { checkDeleteRange, checkPut, checkRange, checkTxn } from '../api/kv-request-checks.js';
import type {
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
} from '../api/kv-types.js';
import type { KvService } from '../api/services.js';
import type { AuthInfo } from '../api/auth-types.js';

export interface KvLimits {
  /** `--max-txn-ops`. */
  readonly maxTxnOps: number;
  /** `--max-request-bytes`: the largest command accepted into the log. */
  readonly maxRequestBytes: number;
}

/** etcd's KV service on a member: writes go through Raft, linearizable reads through ReadIndex. */
@injectable()
export class RaftKvService implements KvService {
  constructor(
    @inject(CONSENSUS) private readonly node: Consensus,
    @inject(MvccStore) private readonly store: MvccStore,
    @inject(MEMBER_SETTINGS) private readonly limits: KvLimits,
    @inject(LeaderWait) private readonly leader: LeaderWait,
    @inject(BackendQuota) private readonly quota: BackendQuota,
  ) {}

  async range(request: RangeRequest): Promise<RangeResponse> {
    checkRange(request);
    if (request.serializable !== true) {
      await this.leader.known();
      await this.node.readIndex();
    }
    return this.store.range(request);
  }

  // `caller` (auth enabled only): who asks, carried in the command and checked when it is applied.

  async put(request: PutRequest, caller?: AuthInfo): Promise<PutResponse> {
    checkPut(request);
    await this.quota.admit(putCost(request));
    return this.propose({ op: 'put', request, caller });
  }

  deleteRange(request: DeleteRangeRequest, caller?: AuthInfo): Promise<DeleteRangeResponse> {
    checkDeleteRange(request);
    return this.propose({ op: 'deleteRange', request, caller });
  }

  async txn(request: TxnRequest, caller?: AuthInfo): Promise<TxnResponse> {
    checkTxn(request, this.limits.maxTxnOps);
    await this.quota.admit(txnCost(request));
    return this.propose({ op: 'txn', request, caller });
  }

  /** Applied in log order on every member; `physical` changes nothing here since compaction is done when applied. */
  compact(request: CompactionRequest): Promise<CompactionResponse> {
    return this.propose({ op: 'compact', request });
  }

  private async propose<T>(command: KvCommand): Promise<T> {
    const bytes = encodeKvCommand(command);
    // As etcd, the encoded command (its InternalRaftRequest) is what --max-request-bytes bounds.
    if (bytes.byteLength > this.limits.maxRequestBytes) throw EtcdErrors.requestTooLarge();
    await this.leader.known();
    const outcome = (await this.node.propose(bytes)) as ApplyOutcome<T>;
    if ('error' in outcome) throw outcome.error;
    return outcome.ok;
  }
}
