/** The coordination recipes (RECIPES.md describes each one's guarantees and failure behaviour). */
export * from './mutex.js';
export * from './rw-mutex.js';
export * from './semaphore.js';
export * from './election.js';
export * from './queue.js';
export * from './priority-queue.js';
export * from './barrier.js';
export * from './double-barrier.js';
export * from './stm.js';
export * from './service-registry.js';
export * from './config-map.js';
export * from './recipe-errors.js';
export type { HeldTicket } from './ticket.js';
export type { RecipeTarget } from './recipe-target.js';
export type { SequentialKey } from './sequential-key.js';
