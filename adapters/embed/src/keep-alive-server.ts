import { keepAliveLeaseService, servicesAs, WireKeepAliveStream, type CairnServices, type CallerCredentials, type WireLeaseIdRequest } from '@cairn/core';
import type { InProcessDuplex } from './in-process-duplex.js';

/** The LeaseKeepAlive stream, served by the core's logic as the gRPC frontend serves it; requests are read once the caller is authorized. */
export async function serveKeepAlive(services: CairnServices, stream: InProcessDuplex, credentials: CallerCredentials): Promise<void> {
  let keepAlives: WireKeepAliveStream;
  try {
    keepAlives = new WireKeepAliveStream(await keepAliveLeaseService(services, servicesAs(services, credentials)), stream);
  } catch (err) {
    stream.fail(err);
    return;
  }
  if (!stream.done)
    stream.read(
      (request) => keepAlives.request(request as WireLeaseIdRequest),
      () => keepAlives.halfClose(),
    );
}
