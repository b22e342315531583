import type { IncomingMessage } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { EtcdErrors } from '@cairn/core';
import { JsonSyntaxError, readJsonValue, type JsonValue } from './json-text.js';

/**
 * How much JSON the gateway reads for one request message: the protobuf limit the member applies
 * (--max-request-bytes plus gRPC's overhead) four times over, for base64 and field names. A body
 * larger than that is refused unread; one under it is decoded and its protobuf size checked.
 */
export function requestBodyLimit(maxReceiveBytes: number): number {
  return 4 * maxReceiveBytes;
}

/** The client went away before its body arrived: there is nobody to answer. */
export class BodyAbortedError extends Error {
  constructor() {
    super('the client closed the request before its body arrived');
    this.name = 'BodyAbortedError';
  }
}

/** etcd's words for a request too large; the body is refused before it is buffered whole. */
export function bodyTooLarge(): Error {
  return EtcdErrors.requestTooLarge();
}

/** The whole body of a unary request, refused (without reading on) once it passes `limit` bytes. */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(bodyTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const stop = (err: Error): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.pause();
      reject(err);
    };
    const onData = (chunk: Buffer): void => {
      length += chunk.length;
      if (length > limit) stop(bodyTooLarge());
      else chunks.push(chunk);
    };
    const onEnd = (): void => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length));
    request.on('data', onData);
    request.on('end', onEnd);
    request.once('close', () => {
      if (!request.complete) stop(new BodyAbortedError());
    });
    request.once('error', (err) => stop(err));
  });
}

export interface JsonMessageListener {
  /** The next JSON value of the body. */
  message(value: JsonValue): void;
  /** The body ended (after its last message). */
  end(): void;
  /** The body is not JSON (or one value grew past the limit); nothing more is read. */
  error(err: Error): void;
}

/**
 * The JSON values of a streaming request's body as they complete (a stream RPC's requests, one
 * after the other, as Go's json.Decoder reads them): values may be split across chunks or share one.
 */
export function readJsonMessages(request: IncomingMessage, limit: number, listener: JsonMessageListener): { stop(): void } {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let done = false;
  const stop = (): void => {
    if (done) return;
    done = true;
    request.off('data', onData);
    request.off('end', onEnd);
    request.pause();
  };
  const finish = (err?: Error): void => {
    if (done) return;
    stop();
    if (err !== undefined) {
      listener.error(err);
    } else {
      listener.end();
    }
  };
  const drain = (atEnd: boolean): boolean => {
    for (;;) {
      let read: ReturnType<typeof readJsonValue>;
      try {
        read = readJsonValue(pending);
      } catch (err) {
        if (err instanceof JsonSyntaxError && err.truncated && !atEnd) return true;
        finish(err instanceof Error ? err : new Error(String(err)));
        return false;
      }
      if (read === undefined) {
        pending = '';
        return true;
      }
      pending = pending.slice(read.end);
      listener.message(read.value);
      if (done) return false;
    }
  };
  const onData = (chunk: Buffer): void => {
    pending += decoder.write(chunk);
    if (!drain(false)) return;
    if (Buffer.byteLength(pending) > limit) finish(bodyTooLarge());
  };
  const onEnd = (): void => {
    pending += decoder.end();
    if (drain(true)) finish();
  };
  request.on('data', onData);
  request.on('end', onEnd);
  // A client gone mid-body: its response closes too, which ends the stream.
  request.once('close', () => {
    if (!request.complete) stop();
  });
  return { stop };
}
