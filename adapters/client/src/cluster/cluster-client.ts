import type { WireMembersResponse, WireStatusResponse } from '@cairn/core';
import type { CallOptions } from '../call-options.js';
import type { Connection } from '../endpoints/connection.js';
import { headerFromWire, int64, type ResponseHeader } from '../kv/kv-types.js';

export interface Member {
  id: bigint;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

export interface StatusResult {
  header: ResponseHeader;
  /** The endpoint that answered. */
  endpoint: string;
  version: string;
  dbSize: bigint;
  dbSizeInUse: bigint;
  leader: bigint;
  raftIndex: bigint;
  raftTerm: bigint;
  raftAppliedIndex: bigint;
  errors: string[];
  isLearner: boolean;
}

/** Cluster membership and member status (both read-only, retried on another endpoint). */
export class ClusterClient {
  constructor(
    private readonly connection: Connection,
    private readonly callTimeoutMs: number | undefined,
  ) {}

  async members(options: CallOptions = {}): Promise<Member[]> {
    const response = await this.connection.unary<WireMembersResponse>(
      'Cluster',
      'MemberList',
      { linearizable: false },
      { ...options, idempotent: true },
      this.callTimeoutMs,
    );
    return (response.members ?? []).map((m) => ({
      id: int64(m.ID),
      name: m.name,
      peerUrls: [...(m.peerURLs ?? [])],
      clientUrls: [...(m.clientURLs ?? [])],
      isLearner: m.isLearner === true,
    }));
  }

  /** The status of `endpoint` (one of the client's; that endpoint alone), or of whichever endpoint answers. */
  async status(endpoint?: string, options: CallOptions = {}): Promise<StatusResult> {
    const target = endpoint ?? this.connection.pool.pick()!.name;
    const response = await this.connection.unary<WireStatusResponse>(
      'Maintenance',
      'Status',
      {},
      { ...options, idempotent: true, endpoint: target },
      this.callTimeoutMs,
    );
    return {
      header: headerFromWire(response.header),
      endpoint: target,
      version: response.version,
      dbSize: int64(response.dbSize),
      dbSizeInUse: int64(response.dbSizeInUse),
      leader: int64(response.leader),
      raftIndex: int64(response.raftIndex),
      raftTerm: int64(response.raftTerm),
      raftAppliedIndex: int64(response.raftAppliedIndex),
      errors: [...(response.errors ?? [])],
      isLearner: response.isLearner === true,
    };
  }
}
