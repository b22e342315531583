import type { WireEvent, WireWatchResponse } from './watch-codec.js';
import type { WireKeyValue, WireResponseHeader } from './wire-types.js';

/*
 * etcd's watch fragmentation: a response for a watch created with fragment=true whose encoded
 * size reaches --max-request-bytes is sent as several responses, each with as many events as fit
 * (at least one), all but the last marked fragment=true. Sizes are protobuf's encoded sizes.
 */

const varintSize = (n: number | bigint): number => {
  let v = BigInt(n);
  if (v < 0n) return 10;
  let size = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    size++;
  }
  return size;
};
const intField = (n: number | string): number => (Number(n) === 0 ? 0 : 1 + varintSize(BigInt(n)));
const bytesField = (length: number): number => (length === 0 ? 0 : 1 + varintSize(length) + length);
const messageField = (length: number): number => 1 + varintSize(length) + length;

function keyValueSize(kv: WireKeyValue): number {
  return (
    bytesField(kv.key.length) +
    intField(kv.create_revision) +
    intField(kv.mod_revision) +
    intField(kv.version) +
    bytesField(kv.value.length) +
    intField(kv.lease)
  );
}

export function eventSize(e: WireEvent): number {
  return intField(e.type) + messageField(keyValueSize(e.kv)) + (e.prev_kv === undefined ? 0 : messageField(keyValueSize(e.prev_kv)));
}

function headerSize(h: WireResponseHeader): number {
  return intField(h.cluster_id) + intField(h.member_id) + intField(h.revision) + intField(h.raft_term);
}

/** The encoded size of a WatchResponse without its events (fragment counted as set). */
function baseSize(r: WireWatchResponse): number {
  return (
    messageField(headerSize(r.header)) +
    intField(r.watch_id) +
    (r.created ? 2 : 0) +
    (r.canceled ? 2 : 0) +
    intField(r.compact_revision) +
    bytesField(Buffer.byteLength(r.cancel_reason)) +
    2
  );
}

/** Encoded size of the whole response (for tests and the no-split check). */
export function watchResponseSize(r: WireWatchResponse): number {
  return baseSize(r) - (r.fragment ? 0 : 2) + r.events.reduce((n, e) => n + messageField(eventSize(e)), 0);
}

/** The responses to send for `response`: itself when it is small enough or has one event, else its fragments. */
export function fragmented(response: WireWatchResponse, maxRequestBytes: number): WireWatchResponse[] {
  if (response.events.length < 2 || watchResponseSize(response) < maxRequestBytes) return [response];
  const base = baseSize(response);
  const out: WireWatchResponse[] = [];
  let events: WireEvent[] = [];
  let size = base;
  for (const e of response.events) {
    const s = messageField(eventSize(e));
    if (events.length > 0 && size + s >= maxRequestBytes) {
      out.push({ ...response, fragment: true, events });
      events = [];
      size = base;
    }
    events.push(e);
    size += s;
  }
  out.push({ ...response, fragment: false, events });
  return out;
}
