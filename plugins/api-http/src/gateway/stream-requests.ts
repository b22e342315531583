import type { IncomingMessage } from 'node:http';
import { decodeJsonMessage } from './json-request-decoder.js';
import type { MessageSchema } from './proto-schema.js';
import { readJsonMessages } from './request-body.js';

export interface StreamRequestListener {
  /** The body's first request; undefined when the body ended without one. */
  first(request: Record<string, unknown> | undefined): void;
  /**
   * The first request could not be read. etcd's gateway returns that decoder error unwrapped,
   * so clients see it as UNKNOWN (500); the stream never opens.
   */
  firstFailed(err: Error): void;
  next(request: Record<string, unknown>): void;
  /** The body ended (the client half-closed its side). */
  end(): void;
}

/**
 * The requests of a client-streaming RPC (Watch, LeaseKeepAlive) from the body as they arrive.
 * A later request that cannot be read ends the reading, not the stream: etcd's gateway logs it
 * and closes its sending side, and the answers already asked for keep coming.
 */
export function readStreamRequests(request: IncomingMessage, schema: MessageSchema, limit: number, listener: StreamRequestListener): { stop(): void } {
  let seen = false;
  const reader = readJsonMessages(request, limit, {
    message(value) {
      let decoded: Record<string, unknown>;
      try {
        decoded = decodeJsonMessage(schema, value).message;
      } catch (err) {
        reader.stop();
        if (seen) listener.end();
        else listener.firstFailed(err as Error);
        return;
      }
      if (seen) listener.next(decoded);
      else listener.first(decoded);
      seen = true;
    },
    end() {
      if (!seen) listener.first(undefined);
      seen = true;
      listener.end();
    },
    error(err) {
      if (!seen) listener.firstFailed(err);
      else listener.end();
      seen = true;
    },
  });
  return reader;
}
