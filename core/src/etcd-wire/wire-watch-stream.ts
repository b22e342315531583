import type { StreamWatch, WatchSession } from '../api/watch-types.js';
import { watchCreateRequestFromWire, watchResponseToWire, type WireWatchRequest, type WireWatchResponse } from './watch-codec.js';
import { fragmented } from './watch-fragments.js';

/** Where a WireWatchStream writes its responses: one frontend's stream (a gRPC call, a chunked HTTP answer). */
export interface WatchResponseSink {
  /** Send one response; false when the stream is full and the pumps should wait for `writable()`. */
  write(response: WireWatchResponse): boolean;
  /** Resolves when the stream can take more, or is gone. */
  writable(): Promise<void>;
  /** End the stream with `error` (the session was aborted, or a pump failed). */
  fail(error: unknown): void;
}

/**
 * One Watch stream in etcd's messages, whatever carries them: requests are answered in order
 * (created, canceled, progress), and each watch has a pump that pulls its next response only when
 * the sink can take more. A client that reads nothing stops the pumps at the first refused write,
 * so the member holds at most each watcher's bounded backlog for it and reads the rest from history.
 */
export class WireWatchStream {
  private blocked: Promise<void> | undefined;
  private release: (() => void) | undefined;
  private done = false;

  constructor(
    private readonly session: WatchSession,
    private readonly sink: WatchResponseSink,
    /** Responses larger than this are cut into fragments for watches that asked for them (etcd cuts at --max-request-bytes). */
    private readonly maxRequestBytes: number,
  ) {
    session.onAbort((error) => {
      if (this.done) return;
      this.done = true;
      this.release?.();
      sink.fail(error);
    });
  }

  request(request: WireWatchRequest): void {
    if (this.done) return;
    switch (request.request_union) {
      case 'create_request': {
        const created = this.session.create(watchCreateRequestFromWire(request.create_request!));
        this.write(watchResponseToWire(created.response));
        if (created.watch !== undefined) void this.pump(created.watch);
        return;
      }
      case 'cancel_request': {
        const canceled = this.session.cancel(Number(request.cancel_request!.watch_id));
        if (canceled !== undefined) this.write(watchResponseToWire(canceled));
        return;
      }
      case 'progress_request':
        this.write(watchResponseToWire(this.session.progress()));
        return;
      default:
        // etcd ignores a request with nothing set rather than end the stream.
        return;
    }
  }

  /** The client went away (or the frontend stops): the session's watchers are released. */
  close(): void {
    if (this.done) return;
    this.done = true;
    this.session.close();
    this.release?.();
  }

  private async pump(watch: StreamWatch): Promise<void> {
    try {
      for (;;) {
        while (this.blocked !== undefined) await this.blocked;
        if (this.done) return;
        const response = await watch.next();
        if (response === undefined || this.done) return;
        // Written in the same turn as next() resolved: the session's progress answers rely on it.
        const wire = watchResponseToWire(response);
        for (const part of watch.fragment ? fragmented(wire, this.maxRequestBytes) : [wire]) this.write(part);
      }
    } catch (err) {
      if (!this.done) this.sink.fail(err);
      this.close();
    }
  }

  private write(response: WireWatchResponse): void {
    if (this.done) return;
    if (this.sink.write(response) || this.blocked !== undefined) return;
    // Full: every pump waits until the sink drains, or until the stream closes.
    this.blocked = new Promise<void>((resolve) => {
      this.release = resolve;
      void this.sink.writable().then(resolve);
    }).then(() => {
      this.blocked = undefined;
      this.release = undefined;
    });
  }
}
