import type { WatchCreateRequest, WatchEvent, WatchFilter, WatchResponse } from '../api/watch-types.js';
import { headerToWire, keyValueToWire } from './kv-codec.js';
import type { WireKeyValue, WireResponseHeader } from './wire-types.js';

/*
 * etcd's Watch messages as plain objects (see wire-types.ts), and their conversions to and from
 * the core's watch types.
 */

export interface WireWatchCreateRequest {
  key: Buffer;
  range_end: Buffer;
  start_revision: string;
  progress_notify: boolean;
  filters: number[];
  prev_kv: boolean;
  watch_id: string;
  fragment: boolean;
}

export interface WireWatchRequest {
  request_union?: 'create_request' | 'cancel_request' | 'progress_request';
  create_request?: WireWatchCreateRequest;
  cancel_request?: { watch_id: string };
  progress_request?: Record<string, never>;
}

export interface WireEvent {
  /** mvccpb.Event.EventType: PUT = 0, DELETE = 1. */
  type: number;
  kv: WireKeyValue;
  prev_kv?: WireKeyValue;
}

export interface WireWatchResponse {
  header: WireResponseHeader;
  watch_id: number;
  created: boolean;
  canceled: boolean;
  compact_revision: number;
  cancel_reason: string;
  fragment: boolean;
  events: WireEvent[];
}

const int = (wire: string | undefined): number => (wire === undefined || wire === '' ? 0 : Number(wire));

export function watchCreateRequestFromWire(wire: WireWatchCreateRequest): WatchCreateRequest {
  const request: { -readonly [K in keyof WatchCreateRequest]: WatchCreateRequest[K] } = { key: wire.key };
  if (wire.range_end !== undefined && wire.range_end.length > 0) request.rangeEnd = wire.range_end;
  const start = int(wire.start_revision);
  if (start !== 0) request.startRevision = start;
  if (wire.progress_notify) request.progressNotify = true;
  if (wire.filters !== undefined && wire.filters.length > 0) request.filters = wire.filters as WatchFilter[];
  if (wire.prev_kv) request.prevKv = true;
  const id = int(wire.watch_id);
  if (id !== 0) request.watchId = id;
  if (wire.fragment) request.fragment = true;
  return request;
}

/** One wire event per stored event, shared by every watcher it goes to (a frontend may cache its encoding by it). */
const sharedWireEvents = new WeakMap<object, WireEvent>();

export function watchEventToWire(event: WatchEvent): WireEvent {
  if (event.prevKv === undefined) {
    let shared = sharedWireEvents.get(event.kv);
    if (shared === undefined) {
      shared = { type: event.type === 'put' ? 0 : 1, kv: keyValueToWire(event.kv) };
      sharedWireEvents.set(event.kv, shared);
    }
    return shared;
  }
  const wire: WireEvent = { type: event.type === 'put' ? 0 : 1, kv: keyValueToWire(event.kv) };
  if (event.prevKv !== undefined) wire.prev_kv = keyValueToWire(event.prevKv);
  return wire;
}

/** One wire header per core header: watchers of one revision share it, so it is encoded once. */
const sharedWireHeaders = new WeakMap<object, WireResponseHeader>();

function sharedHeaderToWire(header: WatchResponse['header']): WireResponseHeader {
  let wire = sharedWireHeaders.get(header);
  if (wire === undefined) {
    wire = headerToWire(header);
    sharedWireHeaders.set(header, wire);
  }
  return wire;
}

export function watchResponseToWire(response: WatchResponse): WireWatchResponse {
  return {
    header: sharedHeaderToWire(response.header),
    watch_id: response.watchId,
    created: response.created,
    canceled: response.canceled,
    compact_revision: response.compactRevision,
    cancel_reason: response.cancelReason,
    fragment: false,
    events: response.events.map(watchEventToWire),
  };
}
