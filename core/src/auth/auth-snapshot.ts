import type { EtcdAuthBuckets } from '../etcd-snapshot/etcd-snapshot-file.js';
import type { BackendOp } from '../ports/backend.js';
import { decodeRole, decodeUser, encodeRole, encodeUser } from './auth-records.js';
import { authContentsOps, type AuthStoreContents } from './auth-store.js';

/** The auth store as etcd's snapshot buckets hold it. */
export function authBucketsOf(contents: AuthStoreContents): EtcdAuthBuckets {
  return {
    enabled: contents.enabled,
    revision: contents.revision,
    users: contents.users.map((u) => [u.name, encodeUser(u)] as const),
    roles: contents.roles.map((r) => [r.name, encodeRole(r)] as const),
  };
}

/** The Backend writes that make an empty Backend hold a snapshot's auth buckets (`cairn snapshot restore`). */
export function authRestoreOps(buckets: EtcdAuthBuckets): BackendOp[] {
  // The bucket key is the name etcd looks users and roles up by; the record's own name agrees with it.
  return authContentsOps({
    enabled: buckets.enabled,
    revision: buckets.revision,
    users: buckets.users.map(([name, user]) => ({ ...decodeUser(user), name })),
    roles: buckets.roles.map(([name, role]) => ({ ...decodeRole(role), name })),
  });
}
