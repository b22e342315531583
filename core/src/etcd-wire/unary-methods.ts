import { EtcdErrors } from '../api/errors.js';
import type {
  AlarmAction,
  AlarmType,
  CairnServices,
  ClusterService,
  ElectionService,
  KvService,
  LeaseService,
  LockService,
  MaintenanceService,
} from '../api/services.js';
import { memberChangeResponseToWire, memberListResponseToWire } from './cluster-codec.js';
import {
  compactionRequestFromWire,
  deleteRangeRequestFromWire,
  deleteRangeResponseToWire,
  headerToWire,
  putRequestFromWire,
  putResponseToWire,
  rangeRequestFromWire,
  rangeResponseToWire,
  txnRequestFromWire,
  txnResponseToWire,
} from './kv-codec.js';
import { int64FromWire, leaseGrantResponseToWire, leaseLeasesResponseToWire, leaseTimeToLiveResponseToWire } from './lease-codec.js';
import type { WireLeaseGrantRequest, WireLeaseIdRequest, WireLeaseTimeToLiveRequest } from './lease-wire-types.js';
import { alarmResponseToWire, hashKvResponseToWire, statusResponseToWire } from './maintenance-codec.js';
import { memberIdFromWire } from './member-id.js';
import { leaderKeyFromWire, leaderKeyToWire, leaderResponseToWire } from './recipe-codec.js';
import type {
  WireCampaignRequest,
  WireLeaderRequest,
  WireLockRequest,
  WireProclaimRequest,
  WireResignRequest,
  WireUnlockRequest,
} from './recipe-wire-types.js';
import type {
  WireAlarmRequest,
  WireCompactionRequest,
  WireDeleteRangeRequest,
  WireHashKvRequest,
  WireMemberAddRequest,
  WireMemberIdRequest,
  WireMemberListRequest,
  WireMemberUpdateRequest,
  WireMoveLeaderRequest,
  WirePutRequest,
  WireRangeRequest,
  WireTxnRequest,
} from './wire-types.js';

/** What a frontend knows of one call beyond its request message. */
export interface EtcdCallContext {
  /** The request message's encoded protobuf size, for --max-request-bytes (0 when unmeasured: not checked). */
  readonly encodedSize: number;
  /** Aborts when the client gives up: Lock and Campaign stop waiting. */
  readonly signal?: AbortSignal;
  /**
   * etcd's auth token as the client sent it (gRPC "token" or "authorization" metadata; the
   * gateway's Authorization header, a "Bearer " prefix removed).
   */
  readonly authToken?: string;
  /** The Common Name of the client certificate the TLS handshake verified (mutual TLS), if any. */
  readonly commonName?: string;
}

/** A decoded etcd message (see wire-types.ts). */
export type EtcdWireMessage = object;

/** One unary RPC: a decoded request to its response; failures reject with an EtcdError. */
export type EtcdUnaryMethod = (request: EtcdWireMessage, context: EtcdCallContext) => Promise<EtcdWireMessage>;

/** Unary RPCs by gRPC method name without the leading slash, e.g. `etcdserverpb.KV/Range`. */
export type EtcdUnaryMethods = ReadonlyMap<string, EtcdUnaryMethod>;

export interface EtcdUnaryMethodOptions {
  /** etcd's --max-request-bytes: larger writes fail with "etcdserver: request is too large". */
  readonly maxRequestBytes: number;
}

/**
 * A frontend decodes each request against the method's own request type (grpc-js with the proto
 * loader, the gateway with its JSON codec), so the message has the shape `serve` takes.
 */
const method = <Request, Response extends object>(serve: (request: Request, context: EtcdCallContext) => Promise<Response>): EtcdUnaryMethod =>
  serve as unknown as EtcdUnaryMethod;

function kvMethods(kv: KvService, maxRequestBytes: number): [string, EtcdUnaryMethod][] {
  // etcd refuses a write larger than --max-request-bytes before proposing it.
  const checkSize = (context: EtcdCallContext): void => {
    if (context.encodedSize > maxRequestBytes) throw EtcdErrors.requestTooLarge();
  };
  return [
    ['etcdserverpb.KV/Range', method(async (r: WireRangeRequest) => rangeResponseToWire(await kv.range(rangeRequestFromWire(r))))],
    [
      'etcdserverpb.KV/Put',
      method(async (r: WirePutRequest, context) => {
        checkSize(context);
        return putResponseToWire(await kv.put(putRequestFromWire(r)));
      }),
    ],
    [
      'etcdserverpb.KV/DeleteRange',
      method(async (r: WireDeleteRangeRequest, context) => {
        checkSize(context);
        return deleteRangeResponseToWire(await kv.deleteRange(deleteRangeRequestFromWire(r)));
      }),
    ],
    [
      'etcdserverpb.KV/Txn',
      method(async (r: WireTxnRequest, context) => {
        checkSize(context);
        return txnResponseToWire(await kv.txn(txnRequestFromWire(r)));
      }),
    ],
    [
      'etcdserverpb.KV/Compact',
      method(async (r: WireCompactionRequest, context) => {
        checkSize(context);
        return { header: headerToWire((await kv.compact(compactionRequestFromWire(r))).header) };
      }),
    ],
  ];
}

function clusterMethods(cluster: ClusterService): [string, EtcdUnaryMethod][] {
  return [
    ['etcdserverpb.Cluster/MemberList', method(async (r: WireMemberListRequest) => memberListResponseToWire(await cluster.memberList(r.linearizable)))],
    [
      'etcdserverpb.Cluster/MemberAdd',
      method(async (r: WireMemberAddRequest) => memberChangeResponseToWire(await cluster.memberAdd(r.peerURLs, r.isLearner), true)),
    ],
    [
      'etcdserverpb.Cluster/MemberRemove',
      method(async (r: WireMemberIdRequest) => memberChangeResponseToWire(await cluster.memberRemove(memberIdFromWire(r.ID)), false)),
    ],
    [
      'etcdserverpb.Cluster/MemberUpdate',
      method(async (r: WireMemberUpdateRequest) => memberChangeResponseToWire(await cluster.memberUpdate(memberIdFromWire(r.ID), r.peerURLs), false)),
    ],
    [
      'etcdserverpb.Cluster/MemberPromote',
      method(async (r: WireMemberIdRequest) => memberChangeResponseToWire(await cluster.memberPromote(memberIdFromWire(r.ID)), false)),
    ],
  ];
}

/** Snapshot streams and is served by each frontend; Downgrade (etcd 3.5) is not served. */
function maintenanceMethods(maintenance: MaintenanceService): [string, EtcdUnaryMethod][] {
  return [
    ['etcdserverpb.Maintenance/Status', method(async () => statusResponseToWire(await maintenance.status()))],
    // etcd's Hash covers the whole backend and is "for testing only"; here it is HashKV at the current revision.
    [
      'etcdserverpb.Maintenance/Hash',
      method(async () => {
        const hashed = await maintenance.hashKv(0);
        return { header: headerToWire(hashed.header), hash: hashed.hash };
      }),
    ],
    [
      'etcdserverpb.Maintenance/HashKV',
      method(async (r: WireHashKvRequest) => {
        const revision = Number(r.revision);
        return hashKvResponseToWire(await maintenance.hashKv(revision), revision);
      }),
    ],
    ['etcdserverpb.Maintenance/Defragment', method(async () => ({ header: headerToWire((await maintenance.defragment()).header) }))],
    [
      'etcdserverpb.Maintenance/Alarm',
      method(async (r: WireAlarmRequest) =>
        alarmResponseToWire(await maintenance.alarm(r.action as AlarmAction, memberIdFromWire(r.memberID), r.alarm as AlarmType)),
      ),
    ],
    [
      'etcdserverpb.Maintenance/MoveLeader',
      method(async (r: WireMoveLeaderRequest) => ({ header: headerToWire((await maintenance.moveLeader(memberIdFromWire(r.targetID))).header) })),
    ],
  ];
}

/** LeaseKeepAlive streams and is served by each frontend. */
function leaseMethods(lease: LeaseService): [string, EtcdUnaryMethod][] {
  return [
    [
      'etcdserverpb.Lease/LeaseGrant',
      method(async (r: WireLeaseGrantRequest) => leaseGrantResponseToWire(await lease.grant(Number(r.TTL || '0'), int64FromWire(r.ID)))),
    ],
    ['etcdserverpb.Lease/LeaseRevoke', method(async (r: WireLeaseIdRequest) => ({ header: headerToWire((await lease.revoke(int64FromWire(r.ID))).header) }))],
    [
      'etcdserverpb.Lease/LeaseTimeToLive',
      method(async (r: WireLeaseTimeToLiveRequest) => leaseTimeToLiveResponseToWire(await lease.timeToLive(int64FromWire(r.ID), r.keys))),
    ],
    ['etcdserverpb.Lease/LeaseLeases', method(async () => leaseLeasesResponseToWire(await lease.leases()))],
  ];
}

/** A Lock call waits until the lock is held, or the client gives up. */
function lockMethods(lock: LockService): [string, EtcdUnaryMethod][] {
  return [
    [
      'v3lockpb.Lock/Lock',
      method(async (r: WireLockRequest, context) => {
        const held = await lock.lock(r.name, int64FromWire(r.lease), context.signal);
        return { header: headerToWire(held.header), key: Buffer.from(held.key) };
      }),
    ],
    ['v3lockpb.Lock/Unlock', method(async (r: WireUnlockRequest) => ({ header: headerToWire((await lock.unlock(r.key)).header) }))],
  ];
}

/** Observe streams and is served by each frontend. */
function electionMethods(election: ElectionService): [string, EtcdUnaryMethod][] {
  return [
    [
      'v3electionpb.Election/Campaign',
      method(async (r: WireCampaignRequest, context) => {
        const won = await election.campaign(r.name, int64FromWire(r.lease), r.value, context.signal);
        return { header: headerToWire(won.header), leader: leaderKeyToWire(won.leader) };
      }),
    ],
    [
      'v3electionpb.Election/Proclaim',
      method(async (r: WireProclaimRequest) => ({ header: headerToWire((await election.proclaim(leaderKeyFromWire(r.leader), r.value)).header) })),
    ],
    ['v3electionpb.Election/Leader', method(async (r: WireLeaderRequest) => leaderResponseToWire(await election.leader(r.name)))],
    [
      'v3electionpb.Election/Resign',
      method(async (r: WireResignRequest) => ({ header: headerToWire((await election.resign(leaderKeyFromWire(r.leader))).header) })),
    ],
  ];
}

/**
 * etcd's unary RPCs over the transport-neutral services, one table for every frontend: gRPC
 * registers its handlers from it, the JSON gateway routes its paths to it. A service the member
 * lacks leaves its methods out (frontends answer them UNIMPLEMENTED); streaming RPCs (Watch,
 * LeaseKeepAlive, Snapshot, Observe) are each frontend's, with the codecs of this layer.
 */
export function etcdUnaryMethods(services: CairnServices, options: EtcdUnaryMethodOptions): EtcdUnaryMethods {
  return new Map([
    ...kvMethods(services.kv, options.maxRequestBytes),
    ...clusterMethods(services.cluster),
    ...maintenanceMethods(services.maintenance),
    ...(services.lease !== undefined ? leaseMethods(services.lease) : []),
    ...(services.lock !== undefined ? lockMethods(services.lock) : []),
    ...(services.election !== undefined ? electionMethods(services.election) : []),
  ]);
}

/** The unary methods of one service (e.g. `etcdserverpb.KV`), by method name (`Range`). */
export function unaryMethodsOf(methods: EtcdUnaryMethods, service: string): ReadonlyMap<string, EtcdUnaryMethod> {
  const prefix = `${service}/`;
  const found = new Map<string, EtcdUnaryMethod>();
  for (const [name, serve] of methods) if (name.startsWith(prefix)) found.set(name.slice(prefix.length), serve);
  return found;
}
