import type { ResponseHeader } from '../api/kv-types.js';
import type { WatchHub } from './watch-hub.js';
import { WatchKeyRange } from './watch-key-range.js';
import type { StreamWatch, WatchCreated, WatchCreateRequest, WatchResponse, WatchSession } from '../api/watch-types.js';
import type { Watcher } from './watcher.js';

/** etcd's mvcc errors, sent as a create response's cancel_reason (word for word: clients match them). */
export const WATCH_RANGE_EMPTY = 'mvcc: watcher range is empty';
export const WATCH_DUPLICATE_ID = 'mvcc: duplicate watch ID provided on the WatchStream';

const response = (header: ResponseHeader, watchId: number, fields: Partial<WatchResponse> = {}): WatchResponse => ({
  header,
  watchId,
  created: false,
  canceled: false,
  compactRevision: 0,
  cancelReason: '',
  events: [],
  ...fields,
});

/**
 * The watches of one client stream (one Watch RPC), as etcd's watchStream: IDs chosen by the
 * client or assigned from 0 up, create/cancel/progress answers with etcd's fields.
 */
export class WatchStream implements WatchSession {
  private readonly watchers = new Map<number, Watcher>();
  private nextId = 0;
  private closed = false;
  private abortListener: ((error: Error) => void) | undefined;

  constructor(
    private readonly hub: WatchHub,
    private readonly header: (revision: number) => ResponseHeader,
    private readonly currentRevision: () => number,
    private readonly onClosed?: (stream: WatchStream) => void,
  ) {}

  create(request: WatchCreateRequest): WatchCreated {
    const header = this.header(this.currentRevision());
    const refuse = (reason: string): WatchCreated => ({ response: response(header, -1, { created: true, canceled: true, cancelReason: reason }) });
    const range = WatchKeyRange.of(request.key, request.rangeEnd);
    if (range === undefined || this.closed) return refuse(WATCH_RANGE_EMPTY);
    let id = request.watchId ?? 0;
    if (id !== 0) {
      if (this.watchers.has(id)) return refuse(WATCH_DUPLICATE_ID);
    } else {
      while (this.watchers.has(this.nextId)) this.nextId++;
      id = this.nextId++;
    }
    const watcher = this.hub.watch({
      range,
      ...(request.startRevision !== undefined ? { startRevision: request.startRevision } : {}),
      ...(request.filters !== undefined ? { filters: request.filters } : {}),
      prevKv: request.prevKv === true,
      progressNotify: request.progressNotify === true,
    });
    this.watchers.set(id, watcher);
    const watchId = id;
    const watch: StreamWatch = {
      id: watchId,
      fragment: request.fragment === true,
      next: async () => {
        const delivery = await watcher.next();
        if (delivery === undefined) return undefined;
        switch (delivery.kind) {
          case 'events':
            return response(this.header(delivery.revision), watchId, { events: delivery.events });
          case 'progress':
            return response(this.header(delivery.revision), watchId);
          case 'compacted':
            this.watchers.delete(watchId);
            // etcd's header carries revision 0 here: the response is about the compaction, not a revision.
            return response(this.header(0), watchId, { canceled: true, compactRevision: delivery.compactRevision });
        }
      },
    };
    return { response: response(header, watchId, { created: true }), watch };
  }

  /** etcd answers a cancel of a watch it does not have with nothing. */
  cancel(watchId: number): WatchResponse | undefined {
    const watcher = this.watchers.get(watchId);
    if (watcher === undefined) return undefined;
    this.watchers.delete(watchId);
    watcher.close();
    return response(this.header(this.currentRevision()), watchId, { canceled: true });
  }

  /**
   * A WatchProgressRequest: watch_id -1 (clients hand it to every watch of the stream) and a
   * revision up to which every watch of the stream has been sent all its events.
   */
  progress(): WatchResponse {
    let revision = this.currentRevision();
    for (const w of this.watchers.values()) revision = Math.min(revision, w.progressRevision());
    return response(this.header(revision), -1);
  }

  onAbort(listener: (error: Error) => void): void {
    this.abortListener = listener;
  }

  /** End the stream from the member's side: every watch closes and the frontend reports `error`. */
  abort(error: Error): void {
    if (this.closed) return;
    const listener = this.abortListener;
    this.close();
    listener?.(error);
  }

  get size(): number {
    return this.watchers.size;
  }

  close(): void {
    if (!this.closed) this.onClosed?.(this);
    this.closed = true;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}
