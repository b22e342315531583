import { EtcdError, GrpcCode } from '@cairn/core';

/** A call's outcome as gRPC reports it in the trailers: a code and its message. */
export interface GrpcStatus {
  readonly code: number;
  readonly details: string;
}

/** A failed call's status as an Error, the form handlers hand on (callback, the stream's 'error'). */
export interface ServiceError extends Error, GrpcStatus {}

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
  if (isServiceError(err)) return err;
  const code = isEtcdError(err) ? (err.code as number) : GrpcCode.Unknown;
  const details = err instanceof Error ? err.message : String(err);
  const serviceError = new Error(details) as Error & { code: number; details: string };
  serviceError.code = code;
  serviceError.details = details;
  return serviceError;
}

function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'number' && typeof (err as { details?: unknown }).details === 'string';
}

/**
 * `grpc-message` as the gRPC spec wants it: UTF-8 bytes outside printable ASCII and `%` itself
 * percent-encoded, the rest as is (grpc-go sends it so; every client decodes it).
 */
export function encodeGrpcMessage(details: string): string {
  let plain = true;
  for (let i = 0; i < details.length; i++) {
    const c = details.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) {
      plain = false;
      break;
    }
  }
  if (plain) return details;
  let encoded = '';
  for (const byte of Buffer.from(details, 'utf8')) {
    encoded += byte < 0x20 || byte > 0x7e || byte === 0x25 ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(byte);
  }
  return encoded;
}
