import type { JsonLinesResponse } from './json-lines-response.js';

/**
 * A server-streaming RPC's answer (Observe, Snapshot): each message as it comes, written only as
 * fast as the client reads. Leaving early (client gone) returns the source, which stops it.
 */
export async function streamResults<T>(out: JsonLinesResponse, source: AsyncIterable<T>, encode: (message: T) => string): Promise<void> {
  try {
    for await (const message of source) {
      if (out.closed) return;
      if (!out.result(encode(message))) await out.writable();
      if (out.closed) return;
    }
    out.end();
  } catch (err) {
    out.fail(err);
  }
}
