import type { MemberId, Message } from '../protocol/raft-types.js';

/** What a Transport hands inbound traffic to. */
export interface TransportHandler {
  /** A Raft message from a peer. Called in arrival order per connection; never throws back into the transport. */
  onMessage(message: Message): void;
  /**
   * A snapshot stream from a peer. `message` is the Snap message (its `snapshot` holds the metadata);
   * `data` yields the snapshot bytes in order. The returned promise resolves once the receiver has
   * stored the snapshot durably; the transport then acknowledges it to the sender. A rejection is
   * reported to the sender as a failed snapshot.
   */
  onSnapshot(message: Message, data: AsyncIterable<Uint8Array>): Promise<void>;
  /**
   * A member started without a cluster ID (one joining a cluster) learned it from the first peer
   * that reached it; the transport then checks every later peer against it. Transports that do not
   * check cluster IDs never call it.
   */
  onClusterId?(clusterId: string): void;
  /**
   * A transport started with `self` = '' (a member joining a cluster that has not learned the ID
   * the cluster gave it: etcd's `member add` mixes the time in, so the member cannot compute it)
   * saw a peer of cluster `clusterId` address member `memberId` at this member's listen URL. The
   * transport refuses that traffic all the same; the member restarts it under the learned ID.
   */
  onAddressed?(memberId: MemberId, clusterId: string, from: MemberId): void;
}

/**
 * Delivers Raft messages between members (and the LeaderRequest/LeaderResponse messages members
 * ask their leader with outside the log: carry every MessageType alike). Best effort: messages
 * may be dropped, delayed, duplicated or reordered across connections, and Raft (or the asker's
 * timeout) copes. Rules every implementation keeps:
 * - `send` never blocks and never throws on a slow or dead peer: each peer has a bounded queue;
 *   what overflows is dropped (and counted);
 * - connections are re-established by the transport itself, with backoff;
 * - snapshots are streamed, never held whole in memory.
 */
export interface Transport {
  /**
   * Start listening and remember who we are; `handler` receives everything inbound. `clusterId`,
   * when given, is the cluster peers must belong to (refuse others); '' means not known yet: take
   * it from the first peer that reaches us and report it through `handler.onClusterId`. `self` = ''
   * means this member's ID is not known yet: accept nothing, and report the member ID and cluster
   * ID of the first peer traffic addressed to our listen URL through `handler.onAddressed`.
   */
  start(self: MemberId, handler: TransportHandler, clusterId?: string): Promise<void>;
  /** Replace the peer table: member ID → addresses (URLs whose scheme the transport understands). */
  setPeers(peers: ReadonlyMap<MemberId, readonly string[]>): void;
  /** Queue messages for their `to` members. Returns at once. */
  send(messages: readonly Message[]): void;
  /**
   * Stream a snapshot to `message.to`. Resolves when the receiver acknowledged storing it,
   * rejects when the peer is unreachable or the receiver refused it.
   */
  sendSnapshot(message: Message, data: AsyncIterable<Uint8Array>): Promise<void>;
  /** Close every connection and the listener. Idempotent. */
  stop(): Promise<void>;
}

export const TRANSPORT = Symbol.for('cairn.port.Transport');
