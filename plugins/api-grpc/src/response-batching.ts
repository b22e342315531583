import type { Writable } from 'node:stream';

type WriteCallback = (error?: Error | null) => void;
type WritableInternals = Writable & {
  _write(chunk: unknown, encoding: BufferEncoding, callback: WriteCallback): void;
  _writev?(chunks: { chunk: unknown; encoding: BufferEncoding }[], callback: WriteCallback): void;
};

/**
 * Let a server stream hand every response buffered behind the one in flight to HTTP/2 at once.
 * grpc-js's server stream implements only `_write`, and finishes each one when HTTP/2 has taken
 * it, so responses queued meanwhile (an event fanned out to hundreds of watchers of one stream)
 * would go out one per write callback, one loop turn each. With `_writev` the stream passes them
 * on back to back, in order, and HTTP/2 frames them together. Call it once the stream's first
 * response has been written (its headers are out), since grpc-js holds only one message while
 * the headers are pending.
 */
export function batchBufferedResponses(stream: Writable): void {
  const s = stream as WritableInternals;
  s._writev = (chunks, callback): void => {
    let left = chunks.length;
    let failed = false;
    for (const { chunk, encoding } of chunks) {
      s._write(chunk, encoding, (error) => {
        if (failed) return;
        if (error) {
          failed = true;
          callback(error);
        } else if (--left === 0) {
          callback();
        }
      });
    }
  };
}
