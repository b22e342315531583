/** Who this member is. Bound as a value by the assembly; any component or plugin may inject it. */
export interface MemberIdentity {
  /**
   * 16 hex digits. '' for a member started to join a cluster (`initial-cluster-state: existing`)
   * until it learns the ID from the cluster (ask the consensus node for the current one).
   */
  readonly clusterId: string;
  /** 16 hex digits. */
  readonly memberId: string;
  /** `--name`. */
  readonly name: string;
}

export const MEMBER_IDENTITY = Symbol.for('cairn.value.MemberIdentity');
