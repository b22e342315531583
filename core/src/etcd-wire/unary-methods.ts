import { EtcdErrors } from '../api/errors.js';
import type { CallerCredentials } from '../api/auth-types.js';
import type { ResponseHeader } from '../api/kv-types.js';
import type { AlarmAction, AlarmType, CairnServices } from '../api/services.js';
import { permissionFromWire, permissionToWire } from './auth-codec.js';
import { maintenanceAuthError } from './maintenance-auth-error.js';
import type {
  WireAuthenticateRequest,
  WireAuthNameRequest,
  WireAuthRoleGrantPermissionRequest,
  WireAuthRoleRequest,
  WireAuthRoleRevokePermissionRequest,
  WireAuthStatusResponse,
  WireAuthUserAddRequest,
  WireAuthUserChangePasswordRequest,
  WireAuthUserGrantRoleRequest,
  WireAuthUserRevokeRoleRequest,
} from './auth-wire-types.js';
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
  WireResponseHeader,
  WireTxnRequest,
} from './wire-types.js';

const EMPTY = new Uint8Array(0);

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
const method = <Request, Response extends object>(
  serve: (request: Request, context: EtcdCallContext, services: CairnServices) => Promise<Response>,
): ScopedMethod => serve as unknown as ScopedMethod;

/** A unary RPC served by the services the caller may use (the table authorizes each call first). */
type ScopedMethod = (request: EtcdWireMessage, context: EtcdCallContext, services: CairnServices) => Promise<EtcdWireMessage>;

function kvMethods(maxRequestBytes: number): [string, ScopedMethod][] {
  // etcd refuses a write larger than --max-request-bytes before proposing it.
  const checkSize = (context: EtcdCallContext): void => {
    if (context.encodedSize > maxRequestBytes) throw EtcdErrors.requestTooLarge();
  };
  return [
    ['etcdserverpb.KV/Range', method(async (r: WireRangeRequest, _c, services) => rangeResponseToWire(await services.kv.range(rangeRequestFromWire(r))))],
    [
      'etcdserverpb.KV/Put',
      method(async (r: WirePutRequest, context, services) => {
        checkSize(context);
        return putResponseToWire(await services.kv.put(putRequestFromWire(r)));
      }),
    ],
    [
      'etcdserverpb.KV/DeleteRange',
      method(async (r: WireDeleteRangeRequest, context, services) => {
        checkSize(context);
        return deleteRangeResponseToWire(await services.kv.deleteRange(deleteRangeRequestFromWire(r)));
      }),
    ],
    [
      'etcdserverpb.KV/Txn',
      method(async (r: WireTxnRequest, context, services) => {
        checkSize(context);
        return txnResponseToWire(await services.kv.txn(txnRequestFromWire(r)));
      }),
    ],
    [
      'etcdserverpb.KV/Compact',
      method(async (r: WireCompactionRequest, context, services) => {
        checkSize(context);
        return { header: headerToWire((await services.kv.compact(compactionRequestFromWire(r))).header) };
      }),
    ],
  ];
}

function clusterMethods(): [string, ScopedMethod][] {
  return [
    [
      'etcdserverpb.Cluster/MemberList',
      method(async (r: WireMemberListRequest, _c, services) => memberListResponseToWire(await services.cluster.memberList(r.linearizable))),
    ],
    [
      'etcdserverpb.Cluster/MemberAdd',
      method(async (r: WireMemberAddRequest, _c, services) => memberChangeResponseToWire(await services.cluster.memberAdd(r.peerURLs, r.isLearner), true)),
    ],
    [
      'etcdserverpb.Cluster/MemberRemove',
      method(async (r: WireMemberIdRequest, _c, services) => memberChangeResponseToWire(await services.cluster.memberRemove(memberIdFromWire(r.ID)), false)),
    ],
    [
      'etcdserverpb.Cluster/MemberUpdate',
      method(async (r: WireMemberUpdateRequest, _c, services) =>
        memberChangeResponseToWire(await services.cluster.memberUpdate(memberIdFromWire(r.ID), r.peerURLs), false),
      ),
    ],
    [
      'etcdserverpb.Cluster/MemberPromote',
      method(async (r: WireMemberIdRequest, _c, services) => memberChangeResponseToWire(await services.cluster.memberPromote(memberIdFromWire(r.ID)), false)),
    ],
  ];
}

/** Snapshot streams and is served by each frontend; Downgrade (etcd 3.5) is not served. */
function maintenanceMethods(): [string, ScopedMethod][] {
  return [
    ['etcdserverpb.Maintenance/Status', method(async (_r: object, _c, services) => statusResponseToWire(await services.maintenance.status()))],
    // etcd's Hash covers the whole backend and is "for testing only"; here it is HashKV at the current revision.
    [
      'etcdserverpb.Maintenance/Hash',
      method(async (_r: object, _c, services) => {
        const hashed = await services.maintenance.hashKv(0);
        return { header: headerToWire(hashed.header), hash: hashed.hash };
      }),
    ],
    [
      'etcdserverpb.Maintenance/HashKV',
      method(async (r: WireHashKvRequest, _c, services) => {
        const revision = Number(r.revision);
        return hashKvResponseToWire(await services.maintenance.hashKv(revision), revision);
      }),
    ],
    [
      'etcdserverpb.Maintenance/Defragment',
      method(async (_r: object, _c, services) => ({ header: headerToWire((await services.maintenance.defragment()).header) })),
    ],
    [
      'etcdserverpb.Maintenance/Alarm',
      method(async (r: WireAlarmRequest, _c, services) =>
        alarmResponseToWire(await services.maintenance.alarm(r.action as AlarmAction, memberIdFromWire(r.memberID), r.alarm as AlarmType)),
      ),
    ],
    [
      'etcdserverpb.Maintenance/MoveLeader',
      method(async (r: WireMoveLeaderRequest, _c, services) => ({
        header: headerToWire((await services.maintenance.moveLeader(memberIdFromWire(r.targetID))).header),
      })),
    ],
  ];
}

/** LeaseKeepAlive streams and is served by each frontend. */
function leaseMethods(): [string, ScopedMethod][] {
  return [
    [
      'etcdserverpb.Lease/LeaseGrant',
      method(async (r: WireLeaseGrantRequest, _c, services) =>
        leaseGrantResponseToWire(await services.lease!.grant(Number(r.TTL || '0'), int64FromWire(r.ID))),
      ),
    ],
    [
      'etcdserverpb.Lease/LeaseRevoke',
      method(async (r: WireLeaseIdRequest, _c, services) => ({ header: headerToWire((await services.lease!.revoke(int64FromWire(r.ID))).header) })),
    ],
    [
      'etcdserverpb.Lease/LeaseTimeToLive',
      method(async (r: WireLeaseTimeToLiveRequest, _c, services) =>
        leaseTimeToLiveResponseToWire(await services.lease!.timeToLive(int64FromWire(r.ID), r.keys)),
      ),
    ],
    ['etcdserverpb.Lease/LeaseLeases', method(async (_r: object, _c, services) => leaseLeasesResponseToWire(await services.lease!.leases()))],
  ];
}

/** A Lock call waits until the lock is held, or the client gives up. */
function lockMethods(): [string, ScopedMethod][] {
  return [
    [
      'v3lockpb.Lock/Lock',
      method(async (r: WireLockRequest, context, services) => {
        const held = await services.lock!.lock(r.name, int64FromWire(r.lease), context.signal);
        return { header: headerToWire(held.header), key: Buffer.from(held.key) };
      }),
    ],
    ['v3lockpb.Lock/Unlock', method(async (r: WireUnlockRequest, _c, services) => ({ header: headerToWire((await services.lock!.unlock(r.key)).header) }))],
  ];
}

/** Observe streams and is served by each frontend. */
function electionMethods(): [string, ScopedMethod][] {
  return [
    [
      'v3electionpb.Election/Campaign',
      method(async (r: WireCampaignRequest, context, services) => {
        const won = await services.election!.campaign(r.name, int64FromWire(r.lease), r.value, context.signal);
        return { header: headerToWire(won.header), leader: leaderKeyToWire(won.leader) };
      }),
    ],
    [
      'v3electionpb.Election/Proclaim',
      method(async (r: WireProclaimRequest, _c, services) => ({
        header: headerToWire((await services.election!.proclaim(leaderKeyFromWire(r.leader), r.value)).header),
      })),
    ],
    ['v3electionpb.Election/Leader', method(async (r: WireLeaderRequest, _c, services) => leaderResponseToWire(await services.election!.leader(r.name)))],
    [
      'v3electionpb.Election/Resign',
      method(async (r: WireResignRequest, _c, services) => ({ header: headerToWire((await services.election!.resign(leaderKeyFromWire(r.leader))).header) })),
    ],
  ];
}

/** etcd's Auth service; Authenticate and AuthStatus need no credentials (see OPEN_METHODS). */
function authMethods(): [string, ScopedMethod][] {
  const header = (r: { header: ResponseHeader }): { header: WireResponseHeader } => ({ header: headerToWire(r.header) });
  return [
    ['etcdserverpb.Auth/AuthEnable', method(async (_r: object, _c, services) => header(await services.auth!.enable()))],
    ['etcdserverpb.Auth/AuthDisable', method(async (_r: object, _c, services) => header(await services.auth!.disable()))],
    [
      'etcdserverpb.Auth/AuthStatus',
      method(async (_r: object, _c, services): Promise<WireAuthStatusResponse> => {
        const status = await services.auth!.status();
        return { header: headerToWire(status.header), enabled: status.enabled, authRevision: status.authRevision };
      }),
    ],
    [
      'etcdserverpb.Auth/Authenticate',
      method(async (r: WireAuthenticateRequest, _c, services) => {
        const done = await services.auth!.authenticate(r.name, r.password);
        return { header: headerToWire(done.header), token: done.token };
      }),
    ],
    [
      'etcdserverpb.Auth/UserAdd',
      method(async (r: WireAuthUserAddRequest, _c, services) =>
        header(await services.auth!.userAdd(r.name, r.password, { noPassword: r.options?.no_password === true })),
      ),
    ],
    [
      'etcdserverpb.Auth/UserGet',
      method(async (r: WireAuthNameRequest, _c, services) => {
        const got = await services.auth!.userGet(r.name);
        return { header: headerToWire(got.header), roles: [...got.roles] };
      }),
    ],
    [
      'etcdserverpb.Auth/UserList',
      method(async (_r: object, _c, services) => {
        const list = await services.auth!.userList();
        return { header: headerToWire(list.header), users: [...list.users] };
      }),
    ],
    ['etcdserverpb.Auth/UserDelete', method(async (r: WireAuthNameRequest, _c, services) => header(await services.auth!.userDelete(r.name)))],
    [
      'etcdserverpb.Auth/UserChangePassword',
      method(async (r: WireAuthUserChangePasswordRequest, _c, services) => header(await services.auth!.userChangePassword(r.name, r.password))),
    ],
    [
      'etcdserverpb.Auth/UserGrantRole',
      method(async (r: WireAuthUserGrantRoleRequest, _c, services) => header(await services.auth!.userGrantRole(r.user, r.role))),
    ],
    [
      'etcdserverpb.Auth/UserRevokeRole',
      method(async (r: WireAuthUserRevokeRoleRequest, _c, services) => header(await services.auth!.userRevokeRole(r.name, r.role))),
    ],
    ['etcdserverpb.Auth/RoleAdd', method(async (r: WireAuthNameRequest, _c, services) => header(await services.auth!.roleAdd(r.name)))],
    [
      'etcdserverpb.Auth/RoleGet',
      method(async (r: WireAuthRoleRequest, _c, services) => {
        const got = await services.auth!.roleGet(r.role);
        return { header: headerToWire(got.header), perm: got.perm.map(permissionToWire) };
      }),
    ],
    [
      'etcdserverpb.Auth/RoleList',
      method(async (_r: object, _c, services) => {
        const list = await services.auth!.roleList();
        return { header: headerToWire(list.header), roles: [...list.roles] };
      }),
    ],
    ['etcdserverpb.Auth/RoleDelete', method(async (r: WireAuthRoleRequest, _c, services) => header(await services.auth!.roleDelete(r.role)))],
    [
      'etcdserverpb.Auth/RoleGrantPermission',
      method(async (r: WireAuthRoleGrantPermissionRequest, _c, services) =>
        header(await services.auth!.roleGrantPermission(r.name, permissionFromWire(r.perm))),
      ),
    ],
    [
      'etcdserverpb.Auth/RoleRevokePermission',
      method(async (r: WireAuthRoleRevokePermissionRequest, _c, services) =>
        header(await services.auth!.roleRevokePermission(r.role, r.key ?? EMPTY, r.range_end ?? EMPTY)),
      ),
    ],
  ];
}

/**
 * What etcd serves without looking at the caller's credentials at all: an invalid or stale token
 * does not stop them (a client re-authenticates with its old token still attached).
 */
const OPEN_METHODS: ReadonlySet<string> = new Set([
  'etcdserverpb.Auth/Authenticate',
  'etcdserverpb.Auth/AuthStatus',
  'etcdserverpb.Cluster/MemberList',
  'etcdserverpb.Maintenance/Status',
]);

/** The call's credentials, read from the context only if auth is enabled and asks for them. */
function credentialsOf(context: EtcdCallContext): CallerCredentials {
  return {
    get token() {
      return context.authToken;
    },
    get commonName() {
      return context.commonName;
    },
  };
}

/** The one place a call is authorized: each method runs on the services `authorize` scopes to its caller. */
function authorized(name: string, serve: ScopedMethod, services: CairnServices): EtcdUnaryMethod {
  const authorize = services.authorize;
  if (authorize === undefined || OPEN_METHODS.has(name)) return (request, context) => serve(request, context, services);
  if (name.startsWith(MAINTENANCE)) {
    return async (request, context) =>
      serve(request, context, await authorize(credentialsOf(context)).catch((err: unknown) => Promise.reject(maintenanceAuthError(err))));
  }
  return async (request, context) => serve(request, context, await authorize(credentialsOf(context)));
}

const MAINTENANCE = 'etcdserverpb.Maintenance/';

/**
 * etcd's unary RPCs over the transport-neutral services, one table for every frontend: gRPC
 * registers its handlers from it, the JSON gateway routes its paths to it. Every method first
 * scopes the services to its caller (`CairnServices.authorize`: with auth disabled, the same
 * services). A service the member lacks leaves its methods out (frontends answer them
 * UNIMPLEMENTED); streaming RPCs (Watch, LeaseKeepAlive, Snapshot, Observe) are each frontend's,
 * with the codecs of this layer, and each authorizes its stream once.
 */
export function etcdUnaryMethods(services: CairnServices, options: EtcdUnaryMethodOptions): EtcdUnaryMethods {
  const scoped: [string, ScopedMethod][] = [
    ...kvMethods(options.maxRequestBytes),
    ...clusterMethods(),
    ...maintenanceMethods(),
    ...(services.lease !== undefined ? leaseMethods() : []),
    ...(services.lock !== undefined ? lockMethods() : []),
    ...(services.election !== undefined ? electionMethods() : []),
    ...(services.auth !== undefined ? authMethods() : []),
  ];
  return new Map(scoped.map(([name, serve]) => [name, authorized(name, serve, services)]));
}

/** The unary methods of one service (e.g. `etcdserverpb.KV`), by method name (`Range`). */
export function unaryMethodsOf(methods: EtcdUnaryMethods, service: string): ReadonlyMap<string, EtcdUnaryMethod> {
  const prefix = `${service}/`;
  const found = new Map<string, EtcdUnaryMethod>();
  for (const [name, serve] of methods) if (name.startsWith(prefix)) found.set(name.slice(prefix.length), serve);
  return found;
}
