/** Errors that only the recipes raise (SessionLostError, NotLeaderError are the client's, in errors.ts). */

/** DoubleBarrier.enter: more participants entered than the barrier's count (etcd's ErrTooManyClients). */
export class TooManyClientsError extends Error {
  constructor(readonly count: number) {
    super(`double barrier: too many clients (more than ${count})`);
    this.name = 'TooManyClientsError';
  }
}

/** stm(): every attempt conflicted with a concurrent write, up to the retry bound. */
export class StmConflictError extends Error {
  constructor(readonly attempts: number) {
    super(`stm: transaction conflicted on each of ${attempts} attempts`);
    this.name = 'StmConflictError';
  }
}

/** A recipe method that needs an earlier step (DoubleBarrier.leave before enter). */
export class RecipeStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecipeStateError';
  }
}
