import type { ResponseHeader } from './kv-types.js';

/** Builds a response's header: the store knows only the revision; the member adds cluster, member and term. */
export interface ResponseHeaders {
  header(revision: number): ResponseHeader;
}

export const RESPONSE_HEADERS = Symbol.for('cairn.port.ResponseHeaders');
