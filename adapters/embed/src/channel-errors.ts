import { EtcdError, GrpcCode } from '@cairn/core';
import { ChannelError } from '@cairn/client';

function isEtcdError(err: unknown): err is EtcdError {
  // Duck-typed as well: two copies of @cairn/core (sources and build) may be loaded in one process.
  return err instanceof EtcdError || (err instanceof Error && err.name === 'EtcdError' && typeof (err as { code?: unknown }).code === 'number');
}

/**
 * The status a gRPC client would see for a server-side failure, as the gRPC frontend maps it: an
 * EtcdError keeps its code and etcd's exact words; anything else is UNKNOWN with its message.
 */
export function toChannelError(err: unknown): ChannelError {
  if (err instanceof ChannelError) return err;
  if (isEtcdError(err)) return new ChannelError(err.code, err.message);
  return new ChannelError(GrpcCode.Unknown, err instanceof Error ? err.message : String(err));
}

/** What grpc-js answers for an RPC the server has no handler for. */
export function unimplemented(path: string): ChannelError {
  return new ChannelError(GrpcCode.Unimplemented, `The server does not implement the method ${path}`);
}

/** A request the client's serializer refused (grpc-js: INTERNAL, nothing sent). */
export function serializationFailure(err: unknown): ChannelError {
  return new ChannelError(GrpcCode.Internal, `Request message serialization failure: ${err instanceof Error ? err.message : String(err)}`);
}

/** The call's deadline passed before the answer (grpc-js's code and words). */
export function deadlineExceeded(): ChannelError {
  return new ChannelError(GrpcCode.DeadlineExceeded, 'Deadline exceeded');
}

/** Calls on a channel that was closed, or whose member stopped (`reason` says why, when it halted). */
export function channelClosed(reason?: string): ChannelError {
  return new ChannelError(GrpcCode.Unavailable, reason === undefined ? 'in-process channel closed' : `in-process channel closed: ${reason}`);
}
