import { credentials, makeGenericClientConstructor, Metadata, type ClientDuplexStream, type Client } from '@grpc/grpc-js';
import { etcdServiceDefinition } from '@cairn/api-grpc';

/** One event as the proto loader decodes it (int64 as decimal strings). */
export interface RawWatchEvent {
  type: number;
  kv: { key: Buffer; value: Buffer; mod_revision: string; create_revision: string; version: string };
  prev_kv?: { value: Buffer; mod_revision: string } | null;
}

export interface RawWatchResponse {
  header: { revision: string };
  watch_id: string;
  created: boolean;
  canceled: boolean;
  compact_revision: string;
  cancel_reason: string;
  fragment: boolean;
  events: RawWatchEvent[];
}

type WatchCall = ClientDuplexStream<object, RawWatchResponse>;

/**
 * A raw etcd Watch stream over grpc-js, so a test controls reading: while paused, it reads
 * nothing and grpc's flow control stops the server at a full window.
 */
export class RawWatchStream {
  private readonly client: Client;
  private readonly call: WatchCall;
  private readonly responses: RawWatchResponse[] = [];
  private waiters: (() => void)[] = [];
  private failure: Error | undefined;

  /** `requireLeader`: send etcd's "hasleader" metadata, as etcd clients do for WithRequireLeader. */
  constructor(endpoint: string, requireLeader = false) {
    const Watch = makeGenericClientConstructor(etcdServiceDefinition('Watch'), 'Watch');
    this.client = new Watch(endpoint, credentials.createInsecure(), { 'grpc.max_receive_message_length': 256 << 20 });
    const metadata = new Metadata();
    if (requireLeader) metadata.set('hasleader', 'true');
    this.call = (this.client as unknown as { Watch(metadata: Metadata): WatchCall }).Watch(metadata);
    this.call.on('data', (r: RawWatchResponse) => {
      this.responses.push(r);
      this.wake();
    });
    this.call.on('error', (err: Error) => {
      this.failure = err;
      this.wake();
    });
  }

  create(request: Record<string, unknown>): void {
    this.call.write({ create_request: request });
  }

  pause(): void {
    this.call.pause();
  }

  resume(): void {
    this.call.resume();
  }

  /** The next response, waiting up to `ms`. */
  async next(ms = 20_000): Promise<RawWatchResponse> {
    const deadline = Date.now() + ms;
    while (this.responses.length === 0) {
      if (this.failure !== undefined) throw this.failure;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no watch response in time');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.responses.shift()!;
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
