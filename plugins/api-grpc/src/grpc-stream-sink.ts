import type { EtcdWireMessage, WireStreamSink } from '@cairn/core';
import { toGrpcStatus } from './grpc-status.js';
import type { StreamServerCall } from './server/server-calls.js';

/** A server stream as the core's stream sink: backpressure by 'drain', errors as etcd's gRPC status. */
export class GrpcStreamSink implements WireStreamSink {
  private ended = false;

  constructor(private readonly call: StreamServerCall) {}

  get done(): boolean {
    return this.ended || this.call.cancelled;
  }

  push(response: EtcdWireMessage): boolean {
    return this.call.write(response);
  }

  writable(): Promise<void> {
    if (this.done) return Promise.resolve();
    return new Promise((resolve) => {
      const ready = (): void => {
        this.call.off('drain', ready);
        this.call.off('cancelled', ready);
        resolve();
      };
      this.call.on('drain', ready);
      this.call.on('cancelled', ready);
    });
  }

  complete(): void {
    if (this.done) return;
    this.ended = true;
    this.call.end();
  }

  fail(error: unknown): void {
    if (this.done) return;
    this.ended = true;
    this.call.emit('error', toGrpcStatus(error));
  }
}
