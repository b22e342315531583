import { EtcdError, GrpcCode } from '../api/errors.js';

const INVALID_TOKEN = 'etcdserver: invalid auth token';

/**
 * etcd's Maintenance server hands the auth package's errors back untranslated: a bad token on a
 * Maintenance RPC (Alarm, Defragment, Hash, HashKV, Snapshot, MoveLeader) is "auth: invalid auth
 * token" with code Unknown, where every other service says "etcdserver: invalid auth token"
 * (Unauthenticated). Frontends pass what `authorize` threw for a Maintenance call through this.
 */
export function maintenanceAuthError(err: unknown): unknown {
  if (err instanceof EtcdError && err.code === GrpcCode.Unauthenticated && err.message === INVALID_TOKEN) {
    return new EtcdError(GrpcCode.Unknown, 'auth: invalid auth token');
  }
  return err;
}
