import { EtcdError, GrpcCode } from '../api/errors.js';

/** etcd lets a gRPC message be this much larger than --max-request-bytes (its grpcOverheadBytes). */
export const GRPC_OVERHEAD_BYTES = 512 * 1024;

/** The largest request message etcd's gRPC server receives at all: --max-request-bytes plus its overhead. */
export function maxReceiveBytes(maxRequestBytes: number): number {
  return maxRequestBytes + GRPC_OVERHEAD_BYTES;
}

/**
 * grpc-go's refusal of a message over the receive limit, which etcd's clients (and its JSON
 * gateway, which forwards over gRPC) see word for word.
 */
export function receivedMessageTooLarge(size: number, max: number): EtcdError {
  return new EtcdError(GrpcCode.ResourceExhausted, `grpc: received message larger than max (${size} vs. ${max})`);
}
