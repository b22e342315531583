/** What the kit asks of a child process, passed as one JSON argument. */
export interface StorageChildTask {
  /**
   * log-workload / stable-workload: run the seeded workload, printing `ack <n>` after operation n
   * resolved; read-*: open the store, read everything and print `result <json>` (a StoreReadResult).
   */
  readonly task: 'log-workload' | 'stable-workload' | 'read-log' | 'read-stable' | 'read-snapshot';
  /** href of the disk store module. */
  readonly module: string;
  readonly directory: string;
  readonly seed: number;
  /** Workloads: operations to run. */
  readonly operations: number;
  /** Workloads: the batch shape (log only). */
  readonly shape: 'crash' | 'trace';
  /** Workloads: after the last operation, close the store and exit, or wait to be killed. */
  readonly afterLast: 'close' | 'wait';
}

/** An error as a child reports it: where it happened and what it said. */
export interface ReportedError {
  readonly stage: 'open' | 'read' | 'latest';
  readonly name: string;
  readonly message: string;
  /** CorruptStorageError's file, when the error carries one. */
  readonly file?: string;
}

export type StoreReadResult =
  | { readonly ok: true; readonly summary: import('./store-summaries.js').StoreSummary }
  | { readonly ok: false; readonly error: ReportedError };
