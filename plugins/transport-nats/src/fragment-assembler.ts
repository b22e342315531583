import type { Fragment } from './message-batch.js';

interface Assembly {
  readonly incarnation: number;
  readonly messageNumber: number;
  readonly buffer: Uint8Array;
  received: number;
}

/**
 * Puts fragmented messages back together, one in progress per sender. A sender's envelopes
 * arrive in order or not at all (one NATS connection each), so a piece that does not continue
 * the message in progress means pieces were lost: that message is dropped (reported through
 * `onDropped`), and Raft resends what it needs.
 */
export class FragmentAssembler {
  private readonly inProgress = new Map<string, Assembly>();

  constructor(
    private readonly maxMessageBytes: number,
    private readonly onDropped: (sender: string, reason: string) => void,
  ) {}

  /** The whole encoded message once `fragment` completes it, else undefined. */
  add(sender: string, incarnation: number, fragment: Fragment): Uint8Array | undefined {
    let assembly = this.inProgress.get(sender);
    if (fragment.offset === 0) {
      if (assembly !== undefined) {
        this.onDropped(sender, `message ${assembly.messageNumber} ended after ${assembly.received} of ${assembly.buffer.byteLength} bytes`);
      }
      if (fragment.totalBytes > this.maxMessageBytes) {
        this.inProgress.delete(sender);
        this.onDropped(sender, `a ${fragment.totalBytes}-byte message exceeds maxMessageBytes (${this.maxMessageBytes})`);
        return undefined;
      }
      assembly = { incarnation, messageNumber: fragment.messageNumber, buffer: new Uint8Array(fragment.totalBytes), received: 0 };
      this.inProgress.set(sender, assembly);
    } else if (
      assembly === undefined ||
      assembly.incarnation !== incarnation ||
      assembly.messageNumber !== fragment.messageNumber ||
      assembly.received !== fragment.offset ||
      assembly.buffer.byteLength !== fragment.totalBytes
    ) {
      this.inProgress.delete(sender);
      this.onDropped(sender, `the piece at ${fragment.offset} of message ${fragment.messageNumber} does not continue the message in progress`);
      return undefined;
    }
    assembly.buffer.set(fragment.piece, fragment.offset);
    assembly.received += fragment.piece.byteLength;
    if (assembly.received < assembly.buffer.byteLength) return undefined;
    this.inProgress.delete(sender);
    return assembly.buffer;
  }

  /** Forget every message in progress (the transport stopped). */
  clear(): void {
    this.inProgress.clear();
  }
}
