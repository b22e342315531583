import type { MemberId } from '../protocol/raft-types.js';

/** A ReadIndex request waiting for a quorum of heartbeat answers. */
export interface PendingRead {
  /** The leader's commit index when the request arrived: the read point. */
  readonly index: number;
  readonly context: Uint8Array;
  /** Who asked (the leader itself, or a follower to answer with ReadIndexResp). */
  readonly from: MemberId;
  readonly acks: Set<MemberId>;
}

const key = (context: Uint8Array): string => Buffer.from(context.buffer, context.byteOffset, context.byteLength).toString('base64');

/**
 * ReadIndex requests in arrival order (Raft thesis §6.4). A heartbeat round carries the newest
 * request's context; once a quorum answers it, that request and every older one are confirmed.
 */
export class ReadOnlyQueue {
  private readonly pending = new Map<string, PendingRead>();
  private readonly order: string[] = [];

  add(index: number, context: Uint8Array, from: MemberId, self: MemberId): void {
    const k = key(context);
    if (this.pending.has(k)) return;
    this.pending.set(k, { index, context, from, acks: new Set([self]) });
    this.order.push(k);
  }

  /** Record `from`'s answer to the round for `context`; returns the acks so far (undefined if unknown). */
  ack(context: Uint8Array, from: MemberId): ReadonlySet<MemberId> | undefined {
    const read = this.pending.get(key(context));
    if (read === undefined) return undefined;
    read.acks.add(from);
    return read.acks;
  }

  /** Remove and return the request for `context` and every request queued before it. */
  release(context: Uint8Array): PendingRead[] {
    const k = key(context);
    const at = this.order.indexOf(k);
    if (at < 0) return [];
    const released = this.order.splice(0, at + 1).map((x) => this.pending.get(x)!);
    for (const x of released) this.pending.delete(key(x.context));
    return released;
  }

  /** The newest request's context, carried by heartbeats. */
  lastContext(): Uint8Array | undefined {
    const k = this.order[this.order.length - 1];
    return k === undefined ? undefined : this.pending.get(k)!.context;
  }

  clear(): void {
    this.pending.clear();
    this.order.length = 0;
  }
}
