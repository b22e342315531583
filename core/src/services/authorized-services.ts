import { inject, injectable } from 'inversify';
import { PermissionType, type AuthInfo, type AuthService, type CallerCredentials } from '../api/auth-types.js';
import { EtcdError, EtcdErrors, GrpcCode } from '../api/errors.js';
import type { CompactionRequest, RangeRequest } from '../api/kv-types.js';
import { RESPONSE_HEADERS, type ResponseHeaders } from '../api/response-headers.js';
import {
  AlarmAction,
  type CairnServices,
  type ClusterService,
  type KvService,
  type LeaseService,
  type MaintenanceService,
  type WatchService,
} from '../api/services.js';
import type { WatchCreateRequest, WatchSession } from '../api/watch-types.js';
import { AuthStore, type AdminRefusal } from '../auth/auth-store.js';
import { TOKEN_PROVIDER, type TokenProvider } from '../auth/token-provider.js';
import { LeaseStore } from '../lease/lease-store.js';
import { LOGGER, type Logger } from '../ports/logger.js';
import { RateLimitedWarning } from '../ports/rate-limited-warning.js';
import { MvccStore } from '../mvcc/mvcc-store.js';
import { CONSENSUS, type Consensus } from '../raft/consensus.js';
import { grpcErrorText } from '../etcd-wire/refused-watch-session.js';
import { MemberAuthService } from './auth-service.js';
import { MemberClusterService } from './cluster-service.js';
import { CommitFeed } from './commit-feed.js';
import { MemberElectionService } from './election-service.js';
import { RaftKvService } from './kv-service.js';
import { learnerGated } from './learner-gate.js';
import { RaftLeaseService } from './lease-service.js';
import { MemberLockService } from './lock-service.js';
import { MemberMaintenanceService } from './maintenance-service.js';
import { MemberHealth } from './member-health.js';
import { MemberMetrics } from './member-metrics.js';
import { PrefixWaits } from './prefix-waits.js';
import { MemberWatchService } from './watch-service.js';

const READ = PermissionType.Read;
/** Views kept per user and auth revision; past this many, the cache starts over. */
const MAX_CACHED_VIEWS = 4096;

/**
 * etcd's Maintenance server returns the auth package's own errors, untranslated, so clients see
 * them with code Unknown ("rpc error: code = Unknown desc = auth: permission denied").
 */
const MAINTENANCE_REFUSALS: Readonly<Record<AdminRefusal, string>> = {
  userEmpty: 'auth: user name is empty',
  userNotFound: 'auth: user not found',
  permissionDenied: 'auth: permission denied',
};

/**
 * The caller-scoped services of `CairnServices.authorize`. With auth disabled the member's own
 * services, as they are. With auth enabled, a view per caller (built once per user and auth
 * revision, then reused) that checks each call as etcd does before serving it: reads and watches
 * need read on their range; writes carry the caller into the log and are checked when applied;
 * member changes and the Maintenance admin RPCs (hash, defragment, snapshot: with etcd's
 * untranslated "auth: ..." errors) need root; so do compaction, raising or disarming an alarm and
 * moving the leader, which etcd 3.4-3.6 let any caller do (a deliberate, stricter deviation: any
 * client could otherwise discard history, disarm NOSPACE or move leadership); Lock and Election
 * run over the caller's own KV view (as etcd runs them through a client carrying the caller's
 * token). A caller with no credentials gets "user name is empty" from all but what etcd lets anyone
 * do (Status, MemberList, listing alarms, LeaseGrant, LeaseKeepAlive, LeaseLeases, LeaseTimeToLive
 * without keys, Authenticate, AuthStatus).
 */
@injectable()
export class AuthorizedServices {
  private readonly views = new Map<string, CairnServices>();
  private viewsRevision = -1;
  private anonymous: CairnServices | undefined;
  private unchecked: { readonly base: CairnServices; readonly resolved: Promise<CairnServices> } | undefined;

  constructor(
    @inject(AuthStore) private readonly store: AuthStore,
    @inject(TOKEN_PROVIDER) private readonly tokens: TokenProvider,
    @inject(CONSENSUS) private readonly node: Pick<Consensus, 'membership' | 'id'>,
    @inject(RaftKvService) private readonly kv: RaftKvService,
    @inject(MemberClusterService) private readonly cluster: MemberClusterService,
    @inject(MemberMaintenanceService) private readonly maintenance: MemberMaintenanceService,
    @inject(RaftLeaseService) private readonly lease: RaftLeaseService,
    @inject(LeaseStore) private readonly leaseStore: LeaseStore,
    @inject(PrefixWaits) private readonly waits: PrefixWaits,
    @inject(CommitFeed) private readonly feed: CommitFeed,
    @inject(MemberWatchService) private readonly watch: MemberWatchService,
    @inject(MemberAuthService) private readonly auth: MemberAuthService,
    @inject(MemberHealth) private readonly health: MemberHealth,
    @inject(MemberMetrics) private readonly metrics: MemberMetrics,
    @inject(MvccStore) private readonly mvcc: Pick<MvccStore, 'currentRevision'>,
    @inject(RESPONSE_HEADERS) private readonly headers: ResponseHeaders,
    @inject(LOGGER) logger: Logger,
  ) {
    this.refusedTokens = new RateLimitedWarning(logger, 'refused an invalid or expired auth token');
  }

  private readonly refusedTokens: RateLimitedWarning;

  /**
   * `base`: the member's services, answered as they are while auth is disabled, through one
   * promise made once: the disabled path allocates nothing and reads no credential.
   */
  authorize(credentials: CallerCredentials, base: CairnServices): Promise<CairnServices> {
    if (!this.store.enabled) {
      if (this.unchecked?.base !== base) this.unchecked = { base, resolved: Promise.resolve(base) };
      return this.unchecked.resolved;
    }
    return this.authorizeEnabled(credentials, base);
  }

  private async authorizeEnabled(credentials: CallerCredentials, base: CairnServices): Promise<CairnServices> {
    const caller = await this.callerOf(credentials);
    return caller === undefined ? (this.anonymous ??= this.scoped(undefined, base)) : this.viewFor(caller, base);
  }

  /** Who the credentials speak for: the token's user, else the certificate's Common Name (etcd's rule for gRPC). */
  private async callerOf(credentials: CallerCredentials): Promise<AuthInfo | undefined> {
    const token = credentials.token;
    if (token !== undefined && token !== '') {
      const info = await this.tokens.info(token, this.store.revision);
      if (info === undefined) {
        // Never the token itself: a log is no place for credentials, even refused ones.
        this.refusedTokens.warn({ kind: this.tokens.kind, commonName: credentials.commonName });
        throw EtcdErrors.invalidAuthToken();
      }
      return info;
    }
    const commonName = credentials.commonName;
    if (commonName !== undefined && commonName !== '') return { username: commonName, revision: this.store.revision };
    return undefined;
  }

  private viewFor(caller: AuthInfo, base: CairnServices): CairnServices {
    // A JWT issued before the last change: its checks all fail with "old revision"; not worth caching.
    if (caller.revision !== this.store.revision) return this.scoped(caller, base);
    if (this.viewsRevision !== caller.revision || this.views.size >= MAX_CACHED_VIEWS) {
      this.views.clear();
      this.viewsRevision = caller.revision;
    }
    let view = this.views.get(caller.username);
    if (view === undefined) this.views.set(caller.username, (view = this.scoped(caller, base)));
    return view;
  }

  /** The view for `caller` (undefined: no credentials), behind the learner rule like the member's own services. */
  private scoped(caller: AuthInfo | undefined, base: CairnServices): CairnServices {
    const store = this.store;
    // No user at all: etcd's "user name is empty" before anything is proposed.
    const requireUser = (): void => {
      if (caller === undefined && store.enabled) throw EtcdErrors.userEmpty();
    };
    const admin =
      <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        store.checkAdmin(caller);
        return call(...args);
      };
    const raftKv = this.kv;
    const kv: KvService = {
      range: async (request: RangeRequest) => {
        store.checkPermitted(caller, request.key, request.rangeEnd, READ);
        const response = await raftKv.range(request);
        // The store changed while the read waited: etcd refuses the answer as of an old revision.
        if (store.enabled && caller !== undefined && caller.revision !== store.revision) throw EtcdErrors.authOldRevision();
        return response;
      },
      put: async (request) => {
        requireUser();
        return raftKv.put(request, caller);
      },
      deleteRange: async (request) => {
        requireUser();
        return raftKv.deleteRange(request, caller);
      },
      txn: async (request) => {
        requireUser();
        return raftKv.txn(request, caller);
      },
      // Root only: stricter than etcd, which lets any caller compact away everyone's history.
      compact: admin((request: CompactionRequest) => raftKv.compact(request)),
    };
    const cluster = this.cluster;
    const scopedCluster: ClusterService = {
      memberList: (linearizable) => cluster.memberList(linearizable),
      memberAdd: admin((urls: readonly string[], learner: boolean) => cluster.memberAdd(urls, learner)),
      memberRemove: admin((id: string) => cluster.memberRemove(id)),
      memberUpdate: admin((id: string, urls: readonly string[]) => cluster.memberUpdate(id, urls)),
      memberPromote: admin((id: string) => cluster.memberPromote(id)),
    };
    const maintenance = this.maintenance;
    const checkMaintenanceAdmin = (): void => {
      const refusal = store.adminRefusal(caller);
      if (refusal !== undefined) throw new EtcdError(GrpcCode.Unknown, MAINTENANCE_REFUSALS[refusal]);
    };
    const maintenanceAdmin =
      <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        checkMaintenanceAdmin();
        return call(...args);
      };
    const scopedMaintenance: MaintenanceService = {
      status: () => maintenance.status(),
      hashKv: maintenanceAdmin((revision: number) => maintenance.hashKv(revision)),
      defragment: maintenanceAdmin(() => maintenance.defragment()),
      // Listing is anyone's (/health tells alarms too); raising or disarming one is root's, stricter than etcd.
      alarm: async (action, memberId, alarm) => {
        if (action !== AlarmAction.Get) store.checkAdmin(caller);
        return maintenance.alarm(action, memberId, alarm);
      },
      snapshot: () => {
        checkMaintenanceAdmin();
        return maintenance.snapshot();
      },
      // Root only, stricter than etcd (which checks nothing here).
      moveLeader: admin((target: string) => maintenance.moveLeader(target)),
    };
    const lease = this.lease;
    const leaseStore = this.leaseStore;
    const scopedLease: LeaseService = {
      grant: (ttl, id) => lease.grant(ttl, id),
      keepAlive: (id) => lease.keepAlive(id),
      leases: () => lease.leases(),
      revoke: async (id) => {
        requireUser();
        return lease.revoke(id, caller);
      },
      // Asking for the keys needs read on each of them (without keys, etcd 3.4 answers anyone).
      timeToLive: async (id, keys) => {
        if (keys) {
          requireUser();
          for (const key of leaseStore.keys(id)) store.checkPermitted(caller, key, undefined, READ);
        }
        return lease.timeToLive(id, keys);
      },
    };
    const auth = this.auth;
    const scopedAuth: AuthService = {
      enable: () => auth.enable(caller),
      disable: () => auth.disable(caller),
      status: () => auth.status(),
      authenticate: (name, password) => auth.authenticate(name, password),
      userAdd: (name, password, options) => auth.userAdd(name, password, options, caller),
      userGet: (name) => auth.userGet(name, caller),
      userList: () => auth.userList(caller),
      userDelete: (name) => auth.userDelete(name, caller),
      userChangePassword: (name, password) => auth.userChangePassword(name, password, caller),
      userGrantRole: (user, role) => auth.userGrantRole(user, role, caller),
      userRevokeRole: (name, role) => auth.userRevokeRole(name, role, caller),
      roleAdd: (name) => auth.roleAdd(name, caller),
      roleGet: (role) => auth.roleGet(role, caller),
      roleList: () => auth.roleList(caller),
      roleDelete: (role) => auth.roleDelete(role, caller),
      roleGrantPermission: (name, perm) => auth.roleGrantPermission(name, perm, caller),
      roleRevokePermission: (role, key, rangeEnd) => auth.roleRevokePermission(role, key, rangeEnd, caller),
    };
    const view = learnerGated(
      {
        identity: base.identity,
        kv,
        cluster: scopedCluster,
        maintenance: scopedMaintenance,
        lease: scopedLease,
        lock: new MemberLockService(kv, lease, this.waits),
        election: new MemberElectionService(kv, lease, this.waits, this.feed),
        watch: this.scopedWatch(caller),
        auth: scopedAuth,
        health: this.health,
        metrics: this.metrics,
      },
      this.node,
    );
    return { ...view, authorize: base.authorize! };
  }

  /** A watch create needs read on the whole watched range; a refused one is answered created and canceled, as etcd does. */
  private scopedWatch(caller: AuthInfo | undefined): WatchService {
    const watch = this.watch;
    const store = this.store;
    // etcd cancels with the check's error as gRPC prints it ("rpc error: code = ... desc = ...").
    const denied = (err: EtcdError): ReturnType<WatchSession['create']> => ({
      response: {
        header: this.headers.header(this.mvcc.currentRevision),
        watchId: -1,
        created: true,
        canceled: true,
        compactRevision: 0,
        cancelReason: grpcErrorText(err),
        events: [],
      },
    });
    return {
      openStream: (options) => {
        const session = watch.openStream(options);
        return {
          create: (request: WatchCreateRequest) => {
            try {
              store.checkPermitted(caller, request.key, request.rangeEnd, READ);
            } catch (err) {
              return denied(err as EtcdError);
            }
            return session.create(request);
          },
          cancel: (watchId) => session.cancel(watchId),
          progress: () => session.progress(),
          onAbort: (listener) => session.onAbort(listener),
          close: () => session.close(),
        };
      },
    };
  }
}
