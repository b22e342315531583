import { EtcdError, GrpcCode, type WatchCreateRequest } from '@cairn/core';
import { Base64Error, decodeBase64 } from './base64-bytes.js';

/*
 * The query of an SSE watch (`GET /v3/watch`, `Accept: text/event-stream`), a Cairn extension:
 *   key=K            the key, or the start of the range
 *   range_end=E      the end of the range (exclusive); "\0" (base64 "AA==") is every key ≥ key
 *   prefix=true      every key starting with key (range_end computed as etcd's clients do)
 *   start_revision=N the first revision to send (default: the next one)
 *   prev_kv=true     each event carries the key's previous value
 *   encoding=base64  key and range_end are base64 (standard or URL-safe); without it they are
 *                    the UTF-8 text of the (percent-decoded) parameter
 * and the Last-Event-ID header (what an EventSource sends when it reconnects): resume after that
 * revision, i.e. start_revision = Last-Event-ID + 1.
 */

const KNOWN = new Set(['key', 'range_end', 'prefix', 'start_revision', 'prev_kv', 'encoding']);

function invalid(message: string): EtcdError {
  return new EtcdError(GrpcCode.InvalidArgument, message);
}

function flag(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  if (value === null || value === 'false' || value === '0') return false;
  if (value === '' || value === 'true' || value === '1') return true;
  throw invalid(`${name} must be true or false, not ${JSON.stringify(value)}`);
}

function revision(text: string, what: string): number {
  if (!/^[0-9]{1,16}$/.test(text)) throw invalid(`${what} must be a revision (a whole number), not ${JSON.stringify(text)}`);
  return Number(text);
}

/** etcd's clientv3 GetPrefixRangeEnd: the key with its last byte below 0xff incremented, the rest dropped; "\0" if none. */
export function prefixRangeEnd(key: Uint8Array): Uint8Array {
  for (let i = key.length - 1; i >= 0; i--) {
    if (key[i]! < 0xff) {
      const end = Uint8Array.from(key.subarray(0, i + 1));
      end[i]!++;
      return end;
    }
  }
  return Uint8Array.of(0);
}

function keyParam(query: URLSearchParams, name: string, base64: boolean): Uint8Array | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  if (!base64) return Buffer.from(value, 'utf8');
  try {
    return decodeBase64(value);
  } catch (err) {
    if (err instanceof Base64Error) throw invalid(`${name}: ${err.message}`);
    throw err;
  }
}

/** The watch an SSE request asks for; a bad parameter is an InvalidArgument EtcdError. */
export function sseWatchRequest(query: URLSearchParams, lastEventId: string | undefined): WatchCreateRequest {
  for (const name of query.keys()) if (!KNOWN.has(name)) throw invalid(`unknown query parameter ${JSON.stringify(name)}`);
  const encoding = query.get('encoding');
  if (encoding !== null && encoding !== 'base64') throw invalid(`encoding must be base64, not ${JSON.stringify(encoding)}`);
  const base64 = encoding === 'base64';
  const key = keyParam(query, 'key', base64) ?? new Uint8Array(0);
  let rangeEnd = keyParam(query, 'range_end', base64);
  if (flag(query, 'prefix')) {
    if (rangeEnd !== undefined) throw invalid('give prefix=true or range_end, not both');
    rangeEnd = prefixRangeEnd(key);
  }
  const startParam = query.get('start_revision');
  let startRevision = startParam === null ? undefined : revision(startParam, 'start_revision');
  if (lastEventId !== undefined && lastEventId.trim() !== '') startRevision = revision(lastEventId.trim(), 'Last-Event-ID') + 1;
  return {
    key,
    ...(rangeEnd !== undefined && rangeEnd.length > 0 ? { rangeEnd } : {}),
    ...(startRevision !== undefined && startRevision > 0 ? { startRevision } : {}),
    ...(flag(query, 'prev_kv') ? { prevKv: true } : {}),
  };
}
