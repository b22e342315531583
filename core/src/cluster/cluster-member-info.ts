/** A member of the configured cluster, as the application sees it. */
export interface ClusterMemberInfo {
  /** 16 hex digits. */
  readonly id: string;
  readonly name: string;
  readonly peerUrls: readonly string[];
  /** Known for this member at start; for others once they publish them. */
  readonly clientUrls: readonly string[];
}

/** The founding members from `--initial-cluster`, and this member if it joined (a value the assembly binds). */
export const FOUNDING_MEMBERS = Symbol.for('cairn.value.FoundingMembers');
