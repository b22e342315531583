import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { LockService } from '@cairn/core';
import { signalOf } from './call-signal.js';
import { headerToWire } from './kv-codec.js';
import { unaryHandler } from './unary-handler.js';
import type { WireResponseHeader } from './wire-types.js';

interface WireLockRequest {
  name: Buffer;
  lease: string;
}
interface WireLockResponse {
  header: WireResponseHeader;
  key: Buffer;
}
interface WireUnlockRequest {
  key: Buffer;
}
interface WireUnlockResponse {
  header: WireResponseHeader;
}

/** etcd's Lock service (v3lockpb.Lock) over the core's LockService; a Lock call waits until held. */
export function lockHandlers(lock: LockService): UntypedServiceImplementation {
  return {
    Lock: unaryHandler(async (request: WireLockRequest, call): Promise<WireLockResponse> => {
      const held = await lock.lock(request.name, BigInt(request.lease), signalOf(call));
      return { header: headerToWire(held.header), key: Buffer.from(held.key) };
    }),
    Unlock: unaryHandler(async (request: WireUnlockRequest): Promise<WireUnlockResponse> => ({
      header: headerToWire((await lock.unlock(request.key)).header),
    })),
  };
}
