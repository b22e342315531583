import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { EtcdError } from '@cairn/core';

function isEtcdError(err: unknown): err is EtcdError {
  // Duck-typed as well, in case two copies of @cairn/core are loaded (sources and build).
  return err instanceof EtcdError || (err instanceof Error && err.name === 'EtcdError' && typeof (err as { code?: unknown }).code === 'number');
}

/**
 * The gRPC status a client sees for a failure: an EtcdError keeps its code and exact message (etcd
 * clients match on the message); anything else is UNKNOWN with its message, as etcd's togRPCError
 * does for errors it has no mapping for.
 */
export function toGrpcStatus(err: unknown): ServiceError {
  const code = isEtcdError(err) ? (err.code as number as status) : status.UNKNOWN;
  const details = err instanceof Error ? err.message : String(err);
  const serviceError = new Error(details) as ServiceError;
  serviceError.code = code;
  serviceError.details = details;
  serviceError.metadata = new Metadata();
  return serviceError;
}
