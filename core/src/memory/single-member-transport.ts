import { injectable } from 'inversify';
import type { Transport, TransportHandler } from '../ports/transport.js';
import type { MemberId, Message } from '../protocol/raft-types.js';

/**
 * The transport of a member that is alone in its cluster: there is no one to reach, so every
 * message is dropped (and counted) and every snapshot transfer fails. Nothing ever arrives either.
 * Peers a config change adds are remembered but stay unreachable: a member that must talk to
 * others needs a real transport.
 */
@injectable()
export class SingleMemberTransport implements Transport {
  private started = false;
  private peers = new Map<MemberId, readonly string[]>();
  /** Messages dropped because no member can be reached from here. */
  dropped = 0;

  async start(_self: MemberId, _handler: TransportHandler, _clusterId?: string): Promise<void> {
    this.started = true;
  }

  setPeers(peers: ReadonlyMap<MemberId, readonly string[]>): void {
    this.peers = new Map(peers);
  }

  knownPeers(): MemberId[] {
    return [...this.peers.keys()];
  }

  send(messages: readonly Message[]): void {
    if (this.started) this.dropped += messages.length;
  }

  async sendSnapshot(message: Message, _data: AsyncIterable<Uint8Array>): Promise<void> {
    if (!this.started) throw new Error('transport is not started');
    const why = this.peers.has(message.to) ? 'peer unreachable from a single-member transport' : 'unknown peer';
    throw new Error(`snapshot to ${message.to} failed: ${why}`);
  }

  async stop(): Promise<void> {
    this.started = false;
  }
}
