/**
 * Errors clients depend on, with etcd's exact messages and gRPC status codes. The codes are the
 * numeric gRPC status codes so that the core does not depend on a gRPC library.
 */
export enum GrpcCode {
  Canceled = 1,
  Unknown = 2,
  InvalidArgument = 3,
  DeadlineExceeded = 4,
  NotFound = 5,
  AlreadyExists = 6,
  PermissionDenied = 7,
  ResourceExhausted = 8,
  FailedPrecondition = 9,
  Aborted = 10,
  OutOfRange = 11,
  Unimplemented = 12,
  Internal = 13,
  Unavailable = 14,
  DataLoss = 15,
  Unauthenticated = 16,
}

/**
 * Go's names of the gRPC codes, by code (`OK`, `Canceled`, …, `Unauthenticated`): the text of a
 * Go status error (`rpc error: code = PermissionDenied desc = …`) and go-grpc-prometheus's
 * `grpc_code` label. GrpcCode's member names are exactly these.
 */
export const GRPC_CODE_NAMES: readonly string[] = ['OK', ...Array.from({ length: GrpcCode.Unauthenticated }, (_, i) => GrpcCode[i + 1]!)];

/** An error an API frontend reports to the client as-is: `message` word for word, `code` as the status. */
export class EtcdError extends Error {
  constructor(
    readonly code: GrpcCode,
    message: string,
  ) {
    super(message);
    this.name = 'EtcdError';
  }
}

const define = (code: GrpcCode, message: string) => () => new EtcdError(code, message);

/** Factories for etcd's errors (rpctypes in etcd's API): each call makes a fresh Error with a fresh stack. */
export const EtcdErrors = {
  emptyKey: define(GrpcCode.InvalidArgument, 'etcdserver: key is not provided'),
  keyNotFound: define(GrpcCode.InvalidArgument, 'etcdserver: key not found'),
  valueProvided: define(GrpcCode.InvalidArgument, 'etcdserver: value is provided'),
  leaseProvided: define(GrpcCode.InvalidArgument, 'etcdserver: lease is provided'),
  tooManyOps: define(GrpcCode.InvalidArgument, 'etcdserver: too many operations in txn request'),
  duplicateKey: define(GrpcCode.InvalidArgument, 'etcdserver: duplicate key given in txn request'),
  compacted: define(GrpcCode.OutOfRange, 'etcdserver: mvcc: required revision has been compacted'),
  futureRevision: define(GrpcCode.OutOfRange, 'etcdserver: mvcc: required revision is a future revision'),
  noSpace: define(GrpcCode.ResourceExhausted, 'etcdserver: mvcc: database space exceeded'),
  leaseNotFound: define(GrpcCode.NotFound, 'etcdserver: requested lease not found'),
  leaseExist: define(GrpcCode.FailedPrecondition, 'etcdserver: lease already exists'),
  leaseTtlTooLarge: define(GrpcCode.OutOfRange, 'etcdserver: too large lease TTL'),
  requestTooLarge: define(GrpcCode.InvalidArgument, 'etcdserver: request is too large'),
  noLeader: define(GrpcCode.Unavailable, 'etcdserver: no leader'),
  notLeader: define(GrpcCode.FailedPrecondition, 'etcdserver: not leader'),
  leaderChanged: define(GrpcCode.Unavailable, 'etcdserver: leader changed'),
  notCapable: define(GrpcCode.Unavailable, 'etcdserver: not capable'),
  stopped: define(GrpcCode.Unavailable, 'etcdserver: server stopped'),
  timeout: define(GrpcCode.Unavailable, 'etcdserver: request timed out'),
  timeoutDueToLeaderFail: define(GrpcCode.Unavailable, 'etcdserver: request timed out, possibly due to previous leader failure'),
  timeoutDueToConnectionLost: define(GrpcCode.Unavailable, 'etcdserver: request timed out, possibly due to connection lost'),
  unhealthy: define(GrpcCode.Unavailable, 'etcdserver: unhealthy cluster'),
  corrupt: define(GrpcCode.DataLoss, 'etcdserver: corrupt cluster'),
  memberExist: define(GrpcCode.FailedPrecondition, 'etcdserver: member ID already exist'),
  peerUrlExist: define(GrpcCode.FailedPrecondition, 'etcdserver: Peer URLs already exists'),
  memberNotEnoughStarted: define(GrpcCode.FailedPrecondition, 'etcdserver: re-configuration failed due to not enough started members'),
  memberBadUrls: define(GrpcCode.InvalidArgument, 'etcdserver: given member URLs are invalid'),
  memberNotFound: define(GrpcCode.NotFound, 'etcdserver: member not found'),
  memberNotLearner: define(GrpcCode.FailedPrecondition, 'etcdserver: can only promote a learner member'),
  learnerNotReady: define(GrpcCode.FailedPrecondition, 'etcdserver: can only promote a learner member which is in sync with leader'),
  tooManyLearners: define(GrpcCode.FailedPrecondition, 'etcdserver: too many learner members in cluster'),
  notSupportedForLearner: define(GrpcCode.Unavailable, 'etcdserver: rpc not supported for learner'),
  badLeaderTransferee: define(GrpcCode.FailedPrecondition, 'etcdserver: bad leader transferee'),
  ttlZero: define(GrpcCode.InvalidArgument, 'etcdserver: ttl is 0'),
  tooManyRequests: define(GrpcCode.ResourceExhausted, 'etcdserver: too many requests'),
  rootUserNotExist: define(GrpcCode.FailedPrecondition, 'etcdserver: root user does not exist'),
  rootRoleNotExist: define(GrpcCode.FailedPrecondition, 'etcdserver: root user does not have root role'),
  userAlreadyExist: define(GrpcCode.FailedPrecondition, 'etcdserver: user name already exists'),
  userEmpty: define(GrpcCode.InvalidArgument, 'etcdserver: user name is empty'),
  userNotFound: define(GrpcCode.FailedPrecondition, 'etcdserver: user name not found'),
  roleAlreadyExist: define(GrpcCode.FailedPrecondition, 'etcdserver: role name already exists'),
  roleNotFound: define(GrpcCode.FailedPrecondition, 'etcdserver: role name not found'),
  roleEmpty: define(GrpcCode.InvalidArgument, 'etcdserver: role name is empty'),
  authFailed: define(GrpcCode.InvalidArgument, 'etcdserver: authentication failed, invalid user ID or password'),
  permissionDenied: define(GrpcCode.PermissionDenied, 'etcdserver: permission denied'),
  roleNotGranted: define(GrpcCode.FailedPrecondition, 'etcdserver: role is not granted to the user'),
  permissionNotGranted: define(GrpcCode.FailedPrecondition, 'etcdserver: permission is not granted to the role'),
  authNotEnabled: define(GrpcCode.FailedPrecondition, 'etcdserver: authentication is not enabled'),
  invalidAuthToken: define(GrpcCode.Unauthenticated, 'etcdserver: invalid auth token'),
  invalidAuthMgmt: define(GrpcCode.InvalidArgument, 'etcdserver: invalid auth management'),
  authOldRevision: define(GrpcCode.InvalidArgument, 'etcdserver: revision of auth store is old'),
} as const;
