import type { StoreSummary } from './store-summaries.js';

/** Run a seeded workload on `directory`, printing `ack <n>` after operation n resolved. */
export interface WorkloadTask {
  readonly task: 'log-workload' | 'stable-workload';
  /** href of the disk store module. */
  readonly module: string;
  readonly directory: string;
  readonly seed: number;
  readonly operations: number;
  /** The batch shape (log only). */
  readonly shape: 'crash' | 'trace';
  /** After the last operation, close the store and exit, or wait to be killed. */
  readonly afterLast: 'close' | 'wait';
}

/** Open the store on each directory in turn, read everything, print `result <i> <json>` (a StoreReadResult). */
export interface ReadTask {
  readonly task: 'read-log' | 'read-stable' | 'read-snapshot';
  readonly module: string;
  readonly directories: readonly string[];
}

/** What the kit asks of a child process, passed as one JSON argument. */
export type StorageChildTask = WorkloadTask | ReadTask;

/** An error as a child reports it: where it happened and what it said. */
export interface ReportedError {
  readonly stage: 'open' | 'read' | 'latest';
  readonly name: string;
  readonly message: string;
  /** CorruptStorageError's file, when the error carries one. */
  readonly file?: string;
}

export type StoreReadResult = { readonly ok: true; readonly summary: StoreSummary } | { readonly ok: false; readonly error: ReportedError };
