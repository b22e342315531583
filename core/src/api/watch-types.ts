import type { KeyValue, ResponseHeader } from './kv-types.js';

/** etcd's WatchCreateRequest.FilterType: which events a watcher does not want. */
export enum WatchFilter {
  NoPut = 0,
  NoDelete = 1,
}

/** etcd's WatchCreateRequest, as plain values (see rpc.proto). */
export interface WatchCreateRequest {
  readonly key: Uint8Array;
  /** Empty or absent: the single key. "\0": every key ≥ key. Otherwise the half-open range [key, rangeEnd). */
  readonly rangeEnd?: Uint8Array;
  /** 0 or absent: from the next revision. */
  readonly startRevision?: number;
  readonly progressNotify?: boolean;
  readonly filters?: readonly WatchFilter[];
  readonly prevKv?: boolean;
  /** 0 or absent: the stream picks one. */
  readonly watchId?: number;
  readonly fragment?: boolean;
}

/** mvccpb.Event: a put (kv is the new version) or a delete (kv holds the key and the delete's revision). */
export interface WatchEvent {
  readonly type: 'put' | 'delete';
  readonly kv: KeyValue;
  readonly prevKv?: KeyValue;
}

/** etcd's WatchResponse, as plain values (fragmenting by size is the frontend's, since only it knows the wire size). */
export interface WatchResponse {
  readonly header: ResponseHeader;
  readonly watchId: number;
  readonly created: boolean;
  readonly canceled: boolean;
  readonly compactRevision: number;
  readonly cancelReason: string;
  readonly events: readonly WatchEvent[];
}

/** What a watcher hands its consumer next, in order. */
export type WatchDelivery =
  /** Events of whole revisions, oldest first; every matching event up to `revision` has now been handed over. */
  | { readonly kind: 'events'; readonly events: readonly WatchEvent[]; readonly revision: number }
  /** No events are pending: everything up to `revision` has been handed over. */
  | { readonly kind: 'progress'; readonly revision: number }
  /** The history the watcher needs is compacted away: it ends after this. */
  | { readonly kind: 'compacted'; readonly compactRevision: number };

/** Bounds of a hub's watchers. */
export interface WatchLimits {
  /** Events a watcher may hold for its consumer before it stops taking live events and later reads them from the Backend. */
  readonly backlogEvents: number;
  /** The same bound in bytes of keys and values. */
  readonly backlogBytes: number;
  /** Events handed over in one delivery (whole revisions: one large revision can exceed it). */
  readonly batchEvents: number;
  /** Records a catch-up reads from the Backend before it yields to the event loop. */
  readonly scanRecords: number;
  /** How often a progress_notify watcher that got nothing is told the current revision (etcd: 10 minutes). */
  readonly progressIntervalMs: number;
}

export const DEFAULT_WATCH_LIMITS: WatchLimits = {
  backlogEvents: 1024,
  backlogBytes: 4 * 1024 * 1024,
  batchEvents: 1000,
  scanRecords: 10_000,
  progressIntervalMs: 10 * 60 * 1000,
};

/** One watch of a stream, as its consumer sees it. */
export interface StreamWatch {
  readonly id: number;
  /** The client asked for big responses to be split (the frontend knows the wire size). */
  readonly fragment: boolean;
  /**
   * The next response for this watch, undefined once it is canceled or the stream closed. Write
   * it as soon as this resolves, with no await in between: progress answers rely on that.
   */
  next(): Promise<WatchResponse | undefined>;
}

export interface WatchCreated {
  readonly response: WatchResponse;
  /** Absent when the create was refused (the response is then canceled, with the reason). */
  readonly watch?: StreamWatch;
}

/** The watches of one client stream (one Watch RPC). */
export interface WatchSession {
  create(request: WatchCreateRequest): WatchCreated;
  /** Undefined when the stream has no such watch (etcd then answers nothing). */
  cancel(watchId: number): WatchResponse | undefined;
  /** The answer to a WatchProgressRequest. */
  progress(): WatchResponse;
  /** Called at most once if the member ends the stream (e.g. etcd's "no leader" for a require-leader stream). */
  onAbort(listener: (error: Error) => void): void;
  close(): void;
}

export interface WatchStreamOptions {
  /** The client sent etcd's require-leader metadata: refuse and end the stream while the member has no leader. */
  readonly requireLeader?: boolean;
}
