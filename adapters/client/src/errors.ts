/**
 * Typed errors. Every failure the server reports arrives as an `EtcdError` (or a subclass chosen
 * by etcd's message, word for word), carrying the gRPC status `code`, etcd's `details` and the
 * `endpoint` that answered. Callers match with `instanceof`.
 */
import { GRPC_CODE_NAMES, GrpcCode } from '@cairn/core';

/** gRPC status codes, as numbers (the core's enum: Go's names). */
export { GrpcCode };

export class EtcdError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
    readonly endpoint: string,
  ) {
    super(endpoint === '' ? details : `${details} (${endpoint})`);
    this.name = new.target.name;
  }
}

/** The requested revision is older than the compaction; `compactRevision` is known for watches (0n otherwise). */
export class CompactedError extends EtcdError {
  constructor(
    code: number,
    details: string,
    endpoint: string,
    readonly compactRevision: bigint = 0n,
  ) {
    super(code, details, endpoint);
  }
}
export class FutureRevisionError extends EtcdError {}
export class LeaseNotFoundError extends EtcdError {}
export class InvalidAuthTokenError extends EtcdError {}
export class PermissionDeniedError extends EtcdError {}
export class AuthFailedError extends EtcdError {}
export class TooManyOpsError extends EtcdError {}
export class RequestTooLargeError extends EtcdError {}
export class NoSpaceError extends EtcdError {}
export class KeyNotFoundError extends EtcdError {}
/** The endpoint could not serve the call (code 14): connection failures and etcd's transient errors. */
export class UnavailableError extends EtcdError {}
/** `etcdserver: no leader` / `etcdserver: leader changed`: the member cannot serve until a leader is known. */
export class NoLeaderError extends UnavailableError {}
export class DeadlineExceededError extends EtcdError {}
/** The server (not the caller's signal) cancelled the call. A caller's abort rejects with `signal.reason` instead. */
export class AbortedError extends EtcdError {}
/** Election calls: the session does not hold leadership (`election: not leader`). */
export class NotLeaderError extends EtcdError {}
/** Election calls: nobody leads the election (`election: no leader`). */
export class ElectionNoLeaderError extends EtcdError {}
/** A recipe's session was lost (its lease expired or was revoked) while the recipe depended on it. */
export class SessionLostError extends Error {
  constructor(message = 'session lost: its lease expired or was revoked') {
    super(message);
    this.name = 'SessionLostError';
  }
}

type ErrorClass = new (code: number, details: string, endpoint: string) => EtcdError;

/** etcd's messages (rpctypes and the concurrency package) and the class each one gets. */
const BY_DETAILS: ReadonlyMap<string, ErrorClass> = new Map<string, ErrorClass>([
  ['etcdserver: mvcc: required revision has been compacted', CompactedError],
  ['mvcc: required revision has been compacted', CompactedError],
  ['etcdserver: mvcc: required revision is a future revision', FutureRevisionError],
  ['mvcc: required revision is a future revision', FutureRevisionError],
  ['etcdserver: requested lease not found', LeaseNotFoundError],
  ['lease not found', LeaseNotFoundError],
  ['etcdserver: invalid auth token', InvalidAuthTokenError],
  ['etcdserver: permission denied', PermissionDeniedError],
  ['etcdserver: authentication failed, invalid user ID or password', AuthFailedError],
  ['etcdserver: too many operations in txn request', TooManyOpsError],
  ['etcdserver: request is too large', RequestTooLargeError],
  ['etcdserver: mvcc: database space exceeded', NoSpaceError],
  ['etcdserver: key not found', KeyNotFoundError],
  ['etcdserver: no leader', NoLeaderError],
  ['etcdserver: leader changed', NoLeaderError],
  ['election: not leader', NotLeaderError],
  ['election: no leader', ElectionNoLeaderError],
]);

/** The typed error for a status the server (or the transport) reported. */
export function etcdErrorFrom(code: number, details: string, endpoint: string): EtcdError {
  const known = BY_DETAILS.get(details);
  if (known !== undefined) return new known(code, details, endpoint);
  if (code === GrpcCode.Unavailable) return new UnavailableError(code, details, endpoint);
  if (code === GrpcCode.DeadlineExceeded) return new DeadlineExceededError(code, details, endpoint);
  if (code === GrpcCode.Canceled) return new AbortedError(code, details, endpoint);
  return new EtcdError(code, details, endpoint);
}

/**
 * Whether the failure says the endpoint (not the request) is the problem, so that another
 * endpoint may succeed: transport failures and etcd's code-14 errors (no leader, leader changed,
 * server stopped, request timed out, not capable, unhealthy cluster).
 */
export function isRetryable(err: unknown): boolean {
  return err instanceof UnavailableError;
}

/**
 * The typed error of a watch the server cancelled. etcd puts the text of a Go status error in
 * `cancel_reason` (`rpc error: code = PermissionDenied desc = etcdserver: permission denied`);
 * a bare message is taken as it is.
 */
export function etcdErrorFromCancelReason(reason: string, endpoint: string): EtcdError {
  const status = /^rpc error: code = (\w+) desc = (.*)$/s.exec(reason);
  if (status === null) return etcdErrorFrom(GrpcCode.Canceled, reason, endpoint);
  const code = GRPC_CODE_NAMES.indexOf(status[1]!);
  return etcdErrorFrom(code < 0 ? 2 : code, status[2]!, endpoint);
}
