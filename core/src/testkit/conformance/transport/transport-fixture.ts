import type { Transport } from '../../../ports/transport.js';
import type { MemberId } from '../../../protocol/raft-types.js';

/**
 * What the transport kit needs from an implementation: a set of members that can reach each
 * other on loopback, and a way to make a transport for any of them, as often as a test restarts it.
 */
export interface TransportFixture {
  /** The members' IDs; the kit uses them in order (the first is usually the sender). */
  readonly members: readonly MemberId[];
  /** The peer table every member gets: each member's addresses, in the form the transport understands. */
  readonly peers: ReadonlyMap<MemberId, readonly string[]>;
  /** The per-peer queue capacity the fixture's transports have. */
  readonly queueSize: number;
  /** A new, unstarted transport for `id` (one per incarnation; each one serves `id`'s addresses). */
  create(id: MemberId): Transport;
  /** Release what the fixture holds; called after every transport it made was stopped. */
  dispose(): Promise<void>;
}

/** Builds a fixture of `memberCount` members (fresh per test). */
export type TransportFixtureFactory = (memberCount: number) => Promise<TransportFixture>;

/** Byte-level access to a transport's listener, for transports that have a wire. */
export interface RawPeerWire {
  /**
   * Connect to `address` (an entry of the peer table), write `bytes`, and resolve once the far end
   * closed the connection. Reject if it is still open after `timeoutMs`.
   */
  sendGarbage(address: string, bytes: Uint8Array, timeoutMs: number): Promise<void>;
}

export interface TransportConformanceOptions {
  /** Given, the kit also checks that garbage on the wire drops that connection and nothing else. */
  readonly rawWire?: RawPeerWire;
  /** Bytes of the large snapshot (default 64 MiB). */
  readonly snapshotBytes?: number;
}
