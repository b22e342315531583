import { int64FromWire, leaseKeepAliveResponseToWire, type LeaseService, type WireLeaseIdRequest } from '@cairn/core';
import type { JsonLinesResponse } from './json-lines-response.js';

/**
 * One `POST /v3/lease/keepalive`: each LeaseKeepAliveRequest of the body renews its lease and is
 * answered with the new TTL (TTL left out, i.e. 0, for a lease that is gone, as etcd answers).
 * Renewals run concurrently, so answers may come in another order; each names its lease. The
 * answer ends once the body has ended and every renewal is answered, as etcd's stream ends when
 * its client half-closes; an error (no leader, timeout) ends it with the stream error object.
 */
export class GatewayKeepAliveStream {
  private inFlight = 0;
  private ended = false;
  private failed = false;

  constructor(
    private readonly out: JsonLinesResponse,
    private readonly lease: LeaseService,
    private readonly encode: (response: object) => string,
  ) {}

  request(request: WireLeaseIdRequest): void {
    if (this.failed || this.out.closed) return;
    this.out.open();
    this.inFlight++;
    this.lease.keepAlive(int64FromWire(request.ID)).then(
      (renewed) => {
        this.inFlight--;
        if (this.failed) return;
        this.out.result(this.encode(leaseKeepAliveResponseToWire(renewed)));
        this.finishIfDone();
      },
      (err: unknown) => {
        this.inFlight--;
        if (this.failed) return;
        this.failed = true;
        this.out.fail(err);
      },
    );
  }

  /** The body ended: no more requests will come. */
  end(): void {
    this.ended = true;
    this.finishIfDone();
  }

  private finishIfDone(): void {
    if (this.ended && this.inFlight === 0 && !this.failed) this.out.end();
  }
}
