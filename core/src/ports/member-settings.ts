/**
 * The etcd flags the kernel's components act on, as values. The assembly binds them from the
 * validated config; a component or plugin injects MEMBER_SETTINGS instead of reading the config.
 */
export interface MemberSettings {
  /** `--heartbeat-interval`, ms: one Raft tick. */
  readonly heartbeatIntervalMs: number;
  /** `--election-timeout`, ms. */
  readonly electionTimeoutMs: number;
  /** `--max-txn-ops`. */
  readonly maxTxnOps: number;
  /** `--max-request-bytes`: the largest command accepted into the log. */
  readonly maxRequestBytes: number;
  /** `--quota-backend-bytes` (0: etcd's default; negative: no quota). */
  readonly quotaBackendBytes: number;
  /** `--initial-cluster-token`. */
  readonly initialClusterToken: string;
  /** `--advertise-client-urls`. */
  readonly advertiseClientUrls: readonly string[];
  /** `--auth-token`: 'simple', or 'jwt,pub-key=...,priv-key=...,sign-method=...,ttl=...' as etcd spells it. */
  readonly authToken: string;
  /** `--auth-token-ttl`, seconds: how long a simple token lives after its last use. */
  readonly authTokenTtlSeconds: number;
  /** `--bcrypt-cost`: the work factor of password hashes. */
  readonly bcryptCost: number;
}

export const MEMBER_SETTINGS = Symbol.for('cairn.value.MemberSettings');
