/**
 * A contribution point: every LifecycleParticipant bound to LIFECYCLE_PARTICIPANT (multi-injected)
 * is started when the member starts and stopped when it stops. The assembly orders them: a
 * participant starts after every participant named in its `after` (and stops before them);
 * a name that no participant has is an error at start, as is a cycle.
 */
export interface LifecycleParticipant {
  /** Unique among participants, e.g. "storage", "raft", "api:grpc". */
  readonly name: string;
  readonly after?: readonly string[];
  start(): Promise<void>;
  /** Idempotent; called in reverse start order, also after a failed start for those that started. */
  stop(): Promise<void>;
}

export const LIFECYCLE_PARTICIPANT = Symbol.for('cairn.contribution.LifecycleParticipant');
