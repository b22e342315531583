import type { Lifecycle } from './lifecycle.js';
import type { CairnServices } from '../api/services.js';

/** Serves clients over some protocol (gRPC, HTTP, ...). Several may run at once. */
export interface ApiFrontend {
  /** Begin serving; resolves once listening. */
  start(services: CairnServices): Promise<void>;
  /** Stop accepting, finish or cancel in-flight calls, close listeners. Idempotent. */
  stop(): Promise<void>;
}

/** Multi-bound: every API plugin binds one. */
export const API_FRONTEND = Symbol.for('cairn.port.ApiFrontend');

export type { Lifecycle };
