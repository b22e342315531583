import type { Bytes } from '../bytes.js';
import type { CallOptions } from '../call-options.js';
import type { KeyValue } from '../kv/kv-types.js';

export interface WatchOptions extends CallOptions {
  end?: Bytes;
  prefix?: boolean;
  /** First revision to deliver (default: the next one after the watch is created). */
  startRevision?: bigint;
  prevKv?: boolean;
  filters?: ('noput' | 'nodelete')[];
  /** Ask the server for periodic progress notifications. */
  progressNotify?: boolean;
  /** Let the server split large revisions into fragments (the client reassembles them). */
  fragment?: boolean;
  /** Called with the revision of every progress notification: every event up to it was delivered. */
  onProgress?: (revision: bigint) => void;
}

export interface WatchEvent {
  type: 'put' | 'delete';
  kv: KeyValue;
  prevKv?: KeyValue;
  /** kv.modRevision. */
  revision: bigint;
}

export interface Watch extends AsyncIterable<WatchEvent> {
  /** Resolves with the revision the watch starts after, once the server created it. */
  readonly ready: Promise<bigint>;
  /** Asks the server for a progress notification (delivered to `onProgress`). */
  requestProgress(): void;
  /** Ends the watch: iteration finishes normally. */
  close(): void;
}
