import type { TransportHandler } from '../../../ports/transport.js';
import type { Message } from '../../../protocol/raft-types.js';

/** What a test does with an incoming snapshot; the default reads it all and stores nothing. */
export type SnapshotReceiver = (message: Message, data: AsyncIterable<Uint8Array>) => Promise<void>;

/** A TransportHandler that records what arrives, so the kit can wait for it. */
export class RecordingHandler implements TransportHandler {
  readonly messages: Message[] = [];
  readonly snapshots: Message[] = [];
  receiveSnapshot: SnapshotReceiver = async (_message, data) => {
    for await (const _chunk of data) {
      // Drained and dropped.
    }
  };

  onMessage(message: Message): void {
    this.messages.push(message);
  }

  onSnapshot(message: Message, data: AsyncIterable<Uint8Array>): Promise<void> {
    this.snapshots.push(message);
    return this.receiveSnapshot(message, data);
  }

  from(sender: string): Message[] {
    return this.messages.filter((m) => m.from === sender);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` until it holds; fails naming `what` after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(5);
  }
}

/** Repeats `action` every `everyMs` until `condition` holds (for "a later message gets through"). */
export async function repeatUntil(action: () => void, condition: () => boolean, what: string, everyMs = 20, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    action();
    await sleep(everyMs);
  }
}
