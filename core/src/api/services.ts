import type {
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  KeyValue,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  ResponseHeader,
  TxnRequest,
  TxnResponse,
} from './kv-types.js';
import type { WatchSession, WatchStreamOptions } from './watch-types.js';
import type { AuthService, CallerCredentials } from './auth-types.js';
import type { LeaseGrantResponse, LeaseKeepAliveResponse, LeaseLeasesResponse, LeaseRevokeResponse, LeaseTimeToLiveResponse } from './lease-types.js';

/** etcd's KV service. Failures reject with an EtcdError (see errors.ts). */
export interface KvService {
  range(request: RangeRequest): Promise<RangeResponse>;
  put(request: PutRequest): Promise<PutResponse>;
  deleteRange(request: DeleteRangeRequest): Promise<DeleteRangeResponse>;
  txn(request: TxnRequest): Promise<TxnResponse>;
  compact(request: CompactionRequest): Promise<CompactionResponse>;
}

export interface Member {
  /** Hex member ID. */
  readonly id: string;
  readonly name: string;
  readonly peerURLs: readonly string[];
  readonly clientURLs: readonly string[];
  readonly isLearner: boolean;
}

export interface MemberListResponse {
  readonly header: ResponseHeader;
  readonly members: readonly Member[];
}

export interface MemberChangeResponse {
  readonly header: ResponseHeader;
  /** The member added, removed, updated or promoted (absent for remove). */
  readonly member?: Member;
  readonly members: readonly Member[];
}

/** etcd's Cluster service. */
export interface ClusterService {
  memberList(linearizable: boolean): Promise<MemberListResponse>;
  memberAdd(peerURLs: readonly string[], isLearner: boolean): Promise<MemberChangeResponse>;
  memberRemove(id: string): Promise<MemberChangeResponse>;
  memberUpdate(id: string, peerURLs: readonly string[]): Promise<MemberChangeResponse>;
  memberPromote(id: string): Promise<MemberChangeResponse>;
}

export enum AlarmType {
  None = 0,
  NoSpace = 1,
  Corrupt = 2,
}
export enum AlarmAction {
  Get = 0,
  Activate = 1,
  Deactivate = 2,
}

export interface AlarmMember {
  readonly memberId: string;
  readonly alarm: AlarmType;
}

export interface StatusResponse {
  readonly header: ResponseHeader;
  /** Server version string, etcd-style ("3.4.0" compatible). */
  readonly version: string;
  readonly dbSize: number;
  readonly dbSizeInUse: number;
  /** Hex member ID of the leader, "" if none. */
  readonly leader: string;
  readonly raftIndex: number;
  readonly raftTerm: number;
  readonly raftAppliedIndex: number;
  readonly errors: readonly string[];
  readonly isLearner: boolean;
}

export interface HashKvResponse {
  readonly header: ResponseHeader;
  /** CRC-32C style hash (uint32) of the MVCC state up to `revision`. */
  readonly hash: number;
  readonly compactRevision: number;
}

/** etcd's Maintenance service. */
export interface MaintenanceService {
  status(): Promise<StatusResponse>;
  hashKv(revision: number): Promise<HashKvResponse>;
  defragment(): Promise<{ readonly header: ResponseHeader }>;
  alarm(action: AlarmAction, memberId: string, alarm: AlarmType): Promise<{ readonly header: ResponseHeader; readonly alarms: readonly AlarmMember[] }>;
  /** The whole backend as a stream (etcdctl snapshot save); ends with etcd's sha256 trailer semantics left to the frontend. */
  snapshot(): AsyncIterable<Uint8Array>;
  moveLeader(targetId: string): Promise<{ readonly header: ResponseHeader }>;
}

/** etcd's Lease service. Unknown leases get etcd's answers: TTL -1 from timeToLive, TTL 0 from keepAlive, "requested lease not found" from revoke. */
export interface LeaseService {
  /** `id` 0: the member chooses one. */
  grant(ttl: number, id: bigint): Promise<LeaseGrantResponse>;
  revoke(id: bigint): Promise<LeaseRevokeResponse>;
  /** One keep-alive of the LeaseKeepAlive stream. */
  keepAlive(id: bigint): Promise<LeaseKeepAliveResponse>;
  timeToLive(id: bigint, keys: boolean): Promise<LeaseTimeToLiveResponse>;
  leases(): Promise<LeaseLeasesResponse>;
}

/** etcd's Watch service: one session per client Watch stream (see mvcc/watch-types.ts). */
export interface WatchService {
  /** Throws etcd's error when this member serves no watches (a learner), or has no leader and the client requires one. */
  openStream(options?: WatchStreamOptions): WatchSession;
}

/** etcd's Lock service (v3lockpb). `signal` aborts a wait when the client gives up. */
export interface LockService {
  /** Resolves once the caller holds the lock named `name` under `lease` (0: a fresh 60 s lease). */
  lock(name: Uint8Array, lease: bigint, signal?: AbortSignal): Promise<{ readonly header: ResponseHeader; readonly key: Uint8Array }>;
  unlock(key: Uint8Array): Promise<{ readonly header: ResponseHeader }>;
}

/** Leadership of an election, as Campaign returns it. */
export interface LeaderKey {
  readonly name: Uint8Array;
  readonly key: Uint8Array;
  /** The key's create revision: a txn comparing it proves leadership is still held. */
  readonly rev: number;
  readonly lease: bigint;
}

/** etcd's Election service (v3electionpb). */
export interface ElectionService {
  campaign(name: Uint8Array, lease: bigint, value: Uint8Array, signal?: AbortSignal): Promise<{ readonly header: ResponseHeader; readonly leader: LeaderKey }>;
  proclaim(leader: LeaderKey | undefined, value: Uint8Array): Promise<{ readonly header: ResponseHeader }>;
  leader(name: Uint8Array): Promise<{ readonly header: ResponseHeader; readonly kv: KeyValue }>;
  /** The leaders' proclamations in order, until `signal` aborts. */
  observe(name: Uint8Array, signal?: AbortSignal): AsyncIterable<{ readonly header: ResponseHeader; readonly kv: KeyValue }>;
  resign(leader: LeaderKey | undefined): Promise<{ readonly header: ResponseHeader }>;
}

/**
 * The transport-neutral services an API frontend serves. Each service is added here as it lands;
 * frontends depend on this shape only, never on how the node implements it.
 */
export interface CairnServices {
  /** Identity of the member serving these services. */
  readonly identity: { readonly clusterId: string; readonly memberId: string; readonly name: string };
  readonly kv: KvService;
  readonly cluster: ClusterService;
  readonly maintenance: MaintenanceService;
  /** Absent on a member built without watches; frontends then leave the Watch API unserved. */
  readonly watch?: WatchService;
  /** Absent on a member built without locks; frontends then leave the Lock API unserved. */
  readonly lock?: LockService;
  /** Absent on a member built without elections; frontends then leave the Election API unserved. */
  readonly election?: ElectionService;
  /** Absent on a member built without leases; frontends then leave the Lease API unserved. */
  readonly lease?: LeaseService;
  /** Absent on a member built without health checks. */
  readonly health?: HealthService;
  /** Absent on a member built without metrics. */
  readonly metrics?: MetricsService;
  /** etcd's Auth service. Absent on a member built without auth; frontends then leave the Auth API unserved. */
  readonly auth?: AuthService;
  /**
   * These services as the caller presenting `credentials` may use them: with auth disabled, these
   * same services; with auth enabled, a view whose every call is checked against the caller's
   * permissions (and whose writes carry the caller into the log, to be checked again when applied).
   * Rejects with etcd's token errors ("etcdserver: invalid auth token"). Every frontend calls it once
   * per call or stream, before anything else. Absent on a member built without auth.
   */
  readonly authorize?: (credentials: CallerCredentials) => Promise<CairnServices>;
}

/** One health check's answer, as a health endpoint reports it. */
export interface HealthCheckResult {
  readonly name: string;
  readonly healthy: boolean;
  readonly reason?: string;
}

/** Which of a kind's checks to run: only those named in `only` (when given), none named in `exclude`. */
export interface HealthCheckSelection {
  readonly only?: readonly string[];
  readonly exclude?: readonly string[];
}

/** etcd's /health verdict: `reason` in etcd's words ("RAFT NO LEADER", "ALARM NOSPACE", "RANGE ERROR:..."), '' when healthy. */
export interface HealthVerdict {
  readonly healthy: boolean;
  readonly reason: string;
}

export interface HealthVerdictOptions {
  /** Alarms that do not count, by etcd's name ("NOSPACE", "CORRUPT"): /health?exclude=NOSPACE. */
  readonly excludedAlarms?: readonly string[];
  /** Read locally and need no leader: /health?serializable=true. */
  readonly serializable?: boolean;
}

/**
 * The member's health: the contributed checks (see the HEALTH_CHECK contribution point), by kind
 * and name (etcd's /readyz and /livez), and etcd's one-line /health verdict.
 */
export interface HealthService {
  /** Names of the checks of `kind`, in order: 'readiness' (/readyz) is every check, 'liveness' (/livez) the liveness ones. */
  names(kind: 'liveness' | 'readiness'): readonly string[];
  /** Runs the checks of `kind` that `selection` keeps (the others are neither run nor reported); healthy when every one run is. */
  check(
    kind: 'liveness' | 'readiness',
    selection?: HealthCheckSelection,
  ): Promise<{ readonly healthy: boolean; readonly checks: readonly HealthCheckResult[] }>;
  /** etcd's /health: no alarm raised (but those excluded), a leader known (unless serializable), a read of one key answered. */
  verdict(options?: HealthVerdictOptions): Promise<HealthVerdict>;
}

/** The member's metrics in Prometheus' text format (see the METRICS_COLLECTOR contribution point). */
export interface MetricsService {
  readonly contentType: string;
  text(): Promise<string>;
}

/** What API frontends serve, bound by the assembly (frontends get it at start; other plugins may inject it). */
export const CAIRN_SERVICES = Symbol.for('cairn.value.CairnServices');
