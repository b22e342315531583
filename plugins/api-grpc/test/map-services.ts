import {
  AlarmType,
  CompareResult,
  CompareTarget,
  EtcdErrors,
  SortOrder,
  type AlarmAction,
  type CairnServices,
  type Compare,
  type CompactionRequest,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type KeyValue,
  type Member,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type ResponseHeader,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
} from '@cairn/core';

/**
 * A small in-memory stand-in for the member's services, only for driving the gRPC frontend in
 * its unit tests: latest values in a Map, one revision per write, compaction as a floor on
 * historical reads (which it otherwise does not keep). Requests are recorded for inspection.
 */
export class MapServices implements CairnServices {
  readonly identity = { clusterId: 'cdf818194e3a8c32', memberId: '8e9e05c52164694d', name: 'default' };
  readonly data = new Map<string, KeyValue>();
  readonly requests: unknown[] = [];
  revision = 1;
  compacted = 0;
  raftTerm = 2;
  snapshotBytes: Uint8Array = new Uint8Array(0);
  /** Thrown by every KV call when set. */
  failWith: Error | undefined;

  private readonly self: Member = {
    id: this.identity.memberId,
    name: 'default',
    peerURLs: ['http://localhost:2380'],
    clientURLs: ['http://localhost:2379'],
    isLearner: false,
  };

  header(): ResponseHeader {
    return {
      clusterId: BigInt(`0x${this.identity.clusterId}`),
      memberId: BigInt(`0x${this.identity.memberId}`),
      revision: this.revision,
      raftTerm: this.raftTerm,
    };
  }

  private inRange(key: Uint8Array, rangeEnd: Uint8Array | undefined): KeyValue[] {
    const from = Buffer.from(key);
    const all = [...this.data.values()].sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
    if (rangeEnd === undefined) return all.filter((kv) => Buffer.from(kv.key).equals(from));
    const fromKey = rangeEnd.length === 1 && rangeEnd[0] === 0;
    return all.filter((kv) => Buffer.compare(Buffer.from(kv.key), from) >= 0 && (fromKey || Buffer.compare(Buffer.from(kv.key), Buffer.from(rangeEnd)) < 0));
  }

  private doRange(request: RangeRequest): RangeResponse {
    if (request.revision !== undefined && request.revision <= this.compacted) throw EtcdErrors.compacted();
    if (request.revision !== undefined && request.revision > this.revision) throw EtcdErrors.futureRevision();
    let kvs = this.inRange(request.key, request.rangeEnd);
    if (request.sortOrder === SortOrder.Descend) kvs = kvs.reverse();
    const count = kvs.length;
    const limited = request.limit !== undefined ? kvs.slice(0, request.limit) : kvs;
    const shown = request.keysOnly ? limited.map((kv) => ({ ...kv, value: new Uint8Array(0) })) : limited;
    return { header: this.header(), kvs: request.countOnly ? [] : shown, more: limited.length < count, count };
  }

  private doPut(request: PutRequest, revision: number): PutResponse {
    if (request.key.length === 0) throw EtcdErrors.emptyKey();
    const id = Buffer.from(request.key).toString('latin1');
    const prev = this.data.get(id);
    this.data.set(id, {
      key: request.key,
      value: request.value,
      lease: request.lease ?? 0n,
      createRevision: prev?.createRevision ?? revision,
      modRevision: revision,
      version: (prev?.version ?? 0) + 1,
    });
    return request.prevKv && prev !== undefined ? { header: this.header(), prevKv: prev } : { header: this.header() };
  }

  private doDelete(request: DeleteRangeRequest): DeleteRangeResponse {
    const gone = this.inRange(request.key, request.rangeEnd);
    for (const kv of gone) this.data.delete(Buffer.from(kv.key).toString('latin1'));
    return { header: this.header(), deleted: gone.length, prevKvs: request.prevKv ? gone : [] };
  }

  private holds(compare: Compare): boolean {
    const kv = this.data.get(Buffer.from(compare.key).toString('latin1'));
    const cmp = (a: number | bigint | Buffer, b: number | bigint | Buffer): number =>
      Buffer.isBuffer(a) && Buffer.isBuffer(b) ? Buffer.compare(a, b) : a < b ? -1 : a > b ? 1 : 0;
    let order: number;
    switch (compare.target) {
      case CompareTarget.Version:
        order = cmp(kv?.version ?? 0, compare.version);
        break;
      case CompareTarget.Create:
        order = cmp(kv?.createRevision ?? 0, compare.createRevision);
        break;
      case CompareTarget.Mod:
        order = cmp(kv?.modRevision ?? 0, compare.modRevision);
        break;
      case CompareTarget.Value:
        if (kv === undefined) return false;
        order = cmp(Buffer.from(kv.value), Buffer.from(compare.value));
        break;
      case CompareTarget.Lease:
        order = cmp(kv?.lease ?? 0n, compare.lease);
        break;
    }
    switch (compare.result) {
      case CompareResult.Equal:
        return order === 0;
      case CompareResult.Greater:
        return order > 0;
      case CompareResult.Less:
        return order < 0;
      case CompareResult.NotEqual:
        return order !== 0;
    }
  }

  private doTxn(request: TxnRequest, revision: number): TxnResponse {
    const succeeded = request.compare.every((c) => this.holds(c));
    const responses: ResponseOp[] = (succeeded ? request.success : request.failure).map((op): ResponseOp => {
      if ('requestRange' in op) return { responseRange: this.doRange(op.requestRange) };
      if ('requestPut' in op) return { responsePut: this.doPut(op.requestPut, revision) };
      if ('requestDeleteRange' in op) return { responseDeleteRange: this.doDelete(op.requestDeleteRange) };
      return { responseTxn: this.doTxn(op.requestTxn, revision) };
    });
    return { header: this.header(), succeeded, responses };
  }

  private call<T>(request: unknown, serve: () => T): Promise<T> {
    this.requests.push(request);
    if (this.failWith !== undefined) return Promise.reject(this.failWith);
    try {
      return Promise.resolve(serve());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  readonly kv = {
    range: (request: RangeRequest) => this.call(request, () => this.doRange(request)),
    put: (request: PutRequest) =>
      this.call(request, () => {
        this.revision += 1;
        const response = this.doPut(request, this.revision);
        return { ...response, header: this.header() };
      }),
    deleteRange: (request: DeleteRangeRequest) =>
      this.call(request, () => {
        const response = this.doDelete(request);
        if (response.deleted > 0) this.revision += 1;
        return { ...response, header: this.header() };
      }),
    txn: (request: TxnRequest) =>
      this.call(request, () => {
        const response = this.doTxn(request, this.revision + 1);
        this.revision += 1;
        return { ...response, header: this.header() };
      }),
    compact: (request: CompactionRequest) =>
      this.call(request, () => {
        if (request.revision <= this.compacted) throw EtcdErrors.compacted();
        if (request.revision > this.revision) throw EtcdErrors.futureRevision();
        this.compacted = request.revision;
        return { header: this.header() };
      }),
  };

  readonly cluster = {
    memberList: (linearizable: boolean) => this.call({ linearizable }, () => ({ header: this.header(), members: [this.self] })),
    memberAdd: (peerURLs: readonly string[], isLearner: boolean) =>
      this.call({ peerURLs, isLearner }, () => {
        const member: Member = { id: '0000000000a1b2c3', name: '', peerURLs, clientURLs: [], isLearner };
        return { header: this.header(), member, members: [this.self, member] };
      }),
    memberRemove: (id: string) =>
      this.call({ id }, () => {
        if (id !== '0000000000a1b2c3') throw EtcdErrors.memberNotFound();
        return { header: this.header(), members: [this.self] };
      }),
    memberUpdate: (id: string, peerURLs: readonly string[]) =>
      this.call({ id, peerURLs }, () => ({ header: this.header(), members: [{ ...this.self, peerURLs }] })),
    memberPromote: (id: string) =>
      this.call({ id }, (): never => {
        void id;
        throw EtcdErrors.memberNotLearner();
      }),
  };

  readonly maintenance = {
    status: () =>
      this.call('status', () => ({
        header: this.header(),
        version: '3.4.0',
        dbSize: 4096,
        dbSizeInUse: 2048,
        leader: this.identity.memberId,
        raftIndex: 10,
        raftTerm: this.raftTerm,
        raftAppliedIndex: 10,
        errors: [],
        isLearner: false,
      })),
    hashKv: (revision: number) => this.call({ hashKv: revision }, () => ({ header: this.header(), hash: 3735928559, compactRevision: this.compacted })),
    defragment: () => this.call('defragment', () => ({ header: this.header() })),
    alarm: (action: AlarmAction, memberId: string, alarm: AlarmType) =>
      this.call({ action, memberId, alarm }, () => ({
        header: this.header(),
        alarms: [{ memberId: this.identity.memberId, alarm: AlarmType.NoSpace }],
      })),
    snapshot: (): AsyncIterable<Uint8Array> => {
      const bytes = this.snapshotBytes;
      return (async function* chunks() {
        // Odd-sized pieces, so the frontend's re-chunking is exercised.
        for (let at = 0; at < bytes.length; at += 10_000) yield bytes.subarray(at, at + 10_000);
      })();
    },
    moveLeader: (targetId: string) =>
      this.call({ targetId }, () => {
        if (targetId !== this.identity.memberId) throw EtcdErrors.badLeaderTransferee();
        return { header: this.header() };
      }),
  };
}
