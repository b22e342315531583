/** A port that holds resources: opened once before use, closed once at shutdown. */
export interface Lifecycle {
  /** Acquire files, sockets or handles. Rejects with a clear error (naming the file) when state on disk is unusable. */
  open(): Promise<void>;
  /** Release everything; pending durable work is finished first. Idempotent. */
  close(): Promise<void>;
}
