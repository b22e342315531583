import type { MemberId, Message } from '../../protocol/raft-types.js';
import type { Transport, TransportHandler } from '../../ports/transport.js';

/** A Transport that tells an observer where each outgoing message goes, then passes it on unchanged. */
export class ObservedTransport implements Transport {
  constructor(
    private readonly inner: Transport,
    private readonly sending: (to: MemberId) => void,
  ) {}

  start(self: MemberId, handler: TransportHandler, clusterId?: string): Promise<void> {
    return this.inner.start(self, handler, clusterId);
  }

  setPeers(peers: ReadonlyMap<MemberId, readonly string[]>): void {
    this.inner.setPeers(peers);
  }

  send(messages: readonly Message[]): void {
    for (const m of messages) this.sending(m.to);
    this.inner.send(messages);
  }

  sendSnapshot(message: Message, data: AsyncIterable<Uint8Array>): Promise<void> {
    this.sending(message.to);
    return this.inner.sendSnapshot(message, data);
  }

  stop(): Promise<void> {
    return this.inner.stop();
  }
}
