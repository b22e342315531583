import type { ChannelDuplex, WireMessage } from '@cairn/client';
import { serializationFailure } from './channel-errors.js';
import { InProcessStream } from './in-process-stream.js';

/**
 * A stream both ways: the client's requests are copied through the wire encoding when written
 * and reach the server side in order on later turns of the event loop (held until it starts
 * reading), then the half-close. Writes after `end()`, a cancel or the end of the stream are dropped.
 */
export class InProcessDuplex extends InProcessStream implements ChannelDuplex {
  private inbox: WireMessage[] = [];
  private halfClosed = false;
  private halfCloseDelivered = false;
  private reader: ((request: WireMessage) => void) | undefined;
  private onHalfClose: (() => void) | undefined;
  private scheduled = false;

  write(message: WireMessage): void {
    if (this.done || this.halfClosed) return;
    let request: WireMessage;
    try {
      request = this.method.receive(message).message;
    } catch (err) {
      this.fail(serializationFailure(err));
      return;
    }
    this.inbox.push(request);
    this.schedule();
  }

  end(): void {
    if (this.halfClosed) return;
    this.halfClosed = true;
    this.schedule();
  }

  // ---- the server side ----

  /** Start reading requests (those already written first); `onHalfClose` once the client ended its side. */
  read(reader: (request: WireMessage) => void, onHalfClose?: () => void): void {
    this.reader = reader;
    this.onHalfClose = onHalfClose;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.reader === undefined) return;
    this.scheduled = true;
    setImmediate(() => this.deliverRequests());
  }

  private deliverRequests(): void {
    this.scheduled = false;
    const batch = this.inbox;
    this.inbox = [];
    for (const request of batch) {
      if (this.done) return;
      this.reader!(request);
    }
    if (this.halfClosed && !this.halfCloseDelivered && !this.done) {
      this.halfCloseDelivered = true;
      this.onHalfClose?.();
    }
  }
}
