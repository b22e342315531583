import { inject, injectable, optional } from 'inversify';
import { CommitFeed } from './commit-feed.js';
import { RaftKvService } from './kv-service.js';
import { RaftLeaseService } from './lease-service.js';
import { EtcdError, GrpcCode } from '../api/errors.js';
import { CompareResult, CompareTarget, type KeyValue, type ResponseHeader } from '../api/kv-types.js';
import { rangeOf } from './lock-service.js';
import { concatBytes, firstCreated, PrefixWaits, sameBytes } from './prefix-waits.js';
import type { ElectionService, KvService, LeaderKey, LeaseService } from '../api/services.js';
import { ownerSuffix, sessionLease } from './session-lease.js';

const SLASH = Uint8Array.of(0x2f);

/** etcd's recipe errors, which its Election server returns as they are (gRPC code Unknown). */
export const ElectionErrors = {
  noLeader: () => new EtcdError(GrpcCode.Unknown, 'election: no leader'),
  notLeader: () => new EtcdError(GrpcCode.Unknown, 'election: not leader'),
  missingLeaderKey: () => new EtcdError(GrpcCode.Unknown, '"leader" field must be provided'),
};

const startsWith = (key: Uint8Array, prefix: Uint8Array): boolean => key.length >= prefix.length && sameBytes(key.subarray(0, prefix.length), prefix);

/**
 * etcd's Election service (v3electionpb), served by the member with etcd's election recipe: a
 * campaigner's key is `name/<lease hex>` holding its proclaimed value; the leader is the oldest key
 * under `name/`, and a campaign is won once every older key is gone.
 */
@injectable()
export class MemberElectionService implements ElectionService {
  constructor(
    @inject(RaftKvService) private readonly kv: KvService,
    @inject(RaftLeaseService) @optional() private readonly leases: LeaseService | undefined,
    @inject(PrefixWaits) private readonly waits: PrefixWaits,
    @inject(CommitFeed) private readonly feed: CommitFeed,
  ) {}

  async campaign(name: Uint8Array, lease: bigint, value: Uint8Array, signal?: AbortSignal): Promise<{ header: ResponseHeader; leader: LeaderKey }> {
    const held = await sessionLease(lease, this.leases);
    const prefix = concatBytes(name, SLASH);
    const key = concatBytes(prefix, Buffer.from(ownerSuffix(held)));
    const txn = await this.kv.txn({
      compare: [{ target: CompareTarget.Create, result: CompareResult.Equal, key, createRevision: 0 }],
      success: [{ requestPut: { key, value, lease: held } }],
      failure: [{ requestRange: { key } }],
    });
    let leader: LeaderKey = { name, key, rev: txn.header.revision, lease: held };
    if (!txn.succeeded) {
      const existing = rangeOf(txn.responses[0]).kvs[0]!;
      leader = { ...leader, rev: existing.createRevision };
      // Campaigning again under the same lease takes the value asked for now.
      if (!sameBytes(existing.value, value)) await this.proclaim(leader, value);
    }
    try {
      await this.waits.deletesBefore(prefix, leader.rev - 1, signal);
    } catch (err) {
      if (signal?.aborted === true) await this.resign(leader).catch(() => undefined);
      throw err;
    }
    return { header: txn.header, leader };
  }

  async proclaim(leader: LeaderKey | undefined, value: Uint8Array): Promise<{ header: ResponseHeader }> {
    if (leader === undefined) throw ElectionErrors.missingLeaderKey();
    const txn = await this.kv.txn({
      compare: [{ target: CompareTarget.Create, result: CompareResult.Equal, key: leader.key, createRevision: leader.rev }],
      success: [{ requestPut: { key: leader.key, value, lease: leader.lease } }],
      failure: [],
    });
    if (!txn.succeeded) throw ElectionErrors.notLeader();
    return { header: txn.header };
  }

  async resign(leader: LeaderKey | undefined): Promise<{ header: ResponseHeader }> {
    if (leader === undefined) throw ElectionErrors.missingLeaderKey();
    const txn = await this.kv.txn({
      compare: [{ target: CompareTarget.Create, result: CompareResult.Equal, key: leader.key, createRevision: leader.rev }],
      success: [{ requestDeleteRange: { key: leader.key } }],
      failure: [],
    });
    return { header: txn.header };
  }

  async leader(name: Uint8Array): Promise<{ header: ResponseHeader; kv: KeyValue }> {
    const r = await this.kv.range(firstCreated(concatBytes(name, SLASH)));
    const kv = r.kvs[0];
    if (kv === undefined) throw ElectionErrors.noLeader();
    return { header: r.header, kv };
  }

  /** This member's response header now (a local read of one key). */
  private async headerAt(key: Uint8Array): Promise<ResponseHeader> {
    return (await this.kv.range({ key, serializable: true, countOnly: true })).header;
  }

  /**
   * Every proclamation of the election's leaders, in order: the current leader's value, each value
   * it proclaims after, then the next leader's when it is gone. Ends when `signal` aborts.
   */
  async *observe(name: Uint8Array, signal?: AbortSignal): AsyncIterable<{ header: ResponseHeader; kv: KeyValue }> {
    const prefix = concatBytes(name, SLASH);
    // Events queue from now on, so nothing between the first read and the first wait is lost.
    const queued: { key: Uint8Array; kv: KeyValue; deleted: boolean; revision: number }[] = [];
    let wake: (() => void) | undefined;
    const unsubscribe = this.feed.subscribe((events, revision) => {
      for (const e of events) if (startsWith(e.kv.key, prefix)) queued.push({ key: e.kv.key, kv: e.kv, deleted: e.type === 'delete', revision });
      wake?.();
    });
    const onAbort = (): void => wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      let current: KeyValue | undefined;
      let seen = 0;
      const findLeader = async (): Promise<{ header: ResponseHeader; kv: KeyValue } | undefined> => {
        const r = await this.kv.range({ ...firstCreated(prefix), serializable: seen > 0 });
        seen = r.header.revision;
        current = r.kvs[0];
        return current === undefined ? undefined : { header: r.header, kv: current };
      };
      const first = await findLeader();
      if (first !== undefined) yield first;
      while (signal?.aborted !== true) {
        if (queued.length === 0) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
          continue;
        }
        const event = queued.shift()!;
        if (event.revision <= seen) continue;
        seen = event.revision;
        if (current === undefined) {
          // No leader: the first key created under the prefix is the new one.
          if (event.deleted) continue;
          current = event.kv;
          yield { header: await this.headerAt(event.key), kv: event.kv };
        } else if (sameBytes(event.key, current.key)) {
          if (!event.deleted) {
            current = event.kv;
            yield { header: await this.headerAt(event.key), kv: event.kv };
          } else {
            const next = await findLeader();
            if (next !== undefined) yield next;
          }
        }
      }
    } finally {
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
