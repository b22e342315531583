import type { MethodDefinition, ServiceDefinition } from '@grpc/proto-loader';
import type { WireEvent, WireKeyValue, WireResponseHeader, WireWatchResponse } from '@cairn/core';

/*
 * WatchResponse encoded by hand (field numbers from rpc.proto and kv.proto), so that an event
 * sent to many watchers is encoded once: each watcher's response is its own header and fields
 * around the same event bytes. The generic encoder would encode every event once per watcher.
 */

const encodedEvents = new WeakMap<WireEvent, Buffer>();
/** Encoded headers by the core header they came from (watch responses of one revision share one). */
const encodedHeaders = new WeakMap<object, Buffer>();

class ProtoWriter {
  private parts: Buffer[] = [];
  private scratch: number[] = [];
  length = 0;

  private flushScratch(): void {
    if (this.scratch.length === 0) return;
    const b = Buffer.from(this.scratch);
    this.parts.push(b);
    this.length += b.length;
    this.scratch = [];
  }

  private varint(n: number | bigint): void {
    if (typeof n === 'number' && n >= 0 && n <= Number.MAX_SAFE_INTEGER) {
      let v = n;
      while (v >= 0x80) {
        this.scratch.push((v % 0x80) | 0x80);
        v = Math.floor(v / 0x80);
      }
      this.scratch.push(v);
      return;
    }
    let v = BigInt.asUintN(64, BigInt(n));
    while (v >= 0x80n) {
      this.scratch.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.scratch.push(Number(v));
  }

  int(field: number, value: number | string | bigint): void {
    if (value === 0 || value === '0' || value === '' || value === 0n) return;
    this.varint((field << 3) | 0);
    this.varint(typeof value === 'string' ? BigInt(value) : value);
  }

  bool(field: number, value: boolean): void {
    if (value) this.scratch.push((field << 3) | 0, 1);
  }

  bytes(field: number, value: Uint8Array, always = false): void {
    if (value.length === 0 && !always) return;
    this.varint((field << 3) | 2);
    this.varint(value.length);
    this.flushScratch();
    const b = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    this.parts.push(b);
    this.length += b.length;
  }

  finish(): Buffer {
    this.flushScratch();
    return this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.length);
  }
}

function encodeKeyValue(kv: WireKeyValue): Buffer {
  const w = new ProtoWriter();
  w.bytes(1, kv.key);
  w.int(2, kv.create_revision);
  w.int(3, kv.mod_revision);
  w.int(4, kv.version);
  w.bytes(5, kv.value);
  w.int(6, kv.lease);
  return w.finish();
}

function encodeEvent(e: WireEvent): Buffer {
  let bytes = encodedEvents.get(e);
  if (bytes === undefined) {
    const w = new ProtoWriter();
    w.int(1, e.type);
    w.bytes(2, encodeKeyValue(e.kv), true);
    if (e.prev_kv !== undefined) w.bytes(3, encodeKeyValue(e.prev_kv), true);
    bytes = w.finish();
    encodedEvents.set(e, bytes);
  }
  return bytes;
}

function encodeHeader(h: WireResponseHeader): Buffer {
  const w = new ProtoWriter();
  w.int(1, h.cluster_id);
  w.int(2, h.member_id);
  w.int(3, h.revision);
  w.int(4, h.raft_term);
  return w.finish();
}

function headerBytes(h: WireResponseHeader): Buffer {
  let bytes = encodedHeaders.get(h);
  if (bytes === undefined) {
    bytes = encodeHeader(h);
    encodedHeaders.set(h, bytes);
  }
  return bytes;
}

export function encodeWatchResponse(r: WireWatchResponse): Buffer {
  const w = new ProtoWriter();
  w.bytes(1, headerBytes(r.header), true);
  w.int(2, r.watch_id);
  w.bool(3, r.created);
  w.bool(4, r.canceled);
  w.int(5, r.compact_revision);
  w.bytes(6, Buffer.from(r.cancel_reason, 'utf8'));
  w.bool(7, r.fragment);
  for (const e of r.events) w.bytes(11, encodeEvent(e), true);
  return w.finish();
}

/** The Watch service with its responses encoded by `encodeWatchResponse` (requests decoded as before). */
export function withWatchResponseEncoder(definition: ServiceDefinition): ServiceDefinition {
  const watch = definition['Watch'] as MethodDefinition<object, object>;
  // Only the Watch handler writes these responses, always as WireWatchResponse.
  const responseSerialize = (value: object): Buffer => encodeWatchResponse(value as WireWatchResponse);
  return { ...definition, Watch: { ...watch, responseSerialize } };
}
