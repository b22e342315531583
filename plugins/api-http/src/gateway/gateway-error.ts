import { STATUS_CODES, type ServerResponse } from 'node:http';
import { EtcdError, GrpcCode } from '@cairn/core';
import { goJsonString } from './go-json-string.js';

/** A failure as a gRPC status: what etcd's gateway reports. */
export interface GatewayStatus {
  readonly code: GrpcCode;
  readonly message: string;
}

/** grpc-gateway v1's HTTPStatusFromCode (runtime/errors.go, v1.9.5 as etcd 3.4 vendors it). */
const HTTP_STATUS_BY_CODE: Readonly<Record<number, number>> = {
  [GrpcCode.Canceled]: 408,
  [GrpcCode.Unknown]: 500,
  [GrpcCode.InvalidArgument]: 400,
  [GrpcCode.DeadlineExceeded]: 504,
  [GrpcCode.NotFound]: 404,
  [GrpcCode.AlreadyExists]: 409,
  [GrpcCode.PermissionDenied]: 403,
  [GrpcCode.Unauthenticated]: 401,
  [GrpcCode.ResourceExhausted]: 429,
  // Deliberately not 412, as grpc-gateway says.
  [GrpcCode.FailedPrecondition]: 400,
  [GrpcCode.Aborted]: 409,
  [GrpcCode.OutOfRange]: 400,
  [GrpcCode.Unimplemented]: 501,
  [GrpcCode.Internal]: 500,
  [GrpcCode.Unavailable]: 503,
  [GrpcCode.DataLoss]: 500,
};

export function httpStatusFromCode(code: GrpcCode): number {
  return HTTP_STATUS_BY_CODE[code] ?? 500;
}

function isEtcdError(err: unknown): err is EtcdError {
  // Duck-typed as well, in case two copies of @cairn/core are loaded (sources and build).
  return err instanceof EtcdError || (err instanceof Error && err.name === 'EtcdError' && typeof (err as { code?: unknown }).code === 'number');
}

/** An EtcdError keeps its code and message; anything else is UNKNOWN with its message, as grpc-go reports it. */
export function statusOf(err: unknown): GatewayStatus {
  if (isEtcdError(err)) return { code: err.code, message: err.message };
  return { code: GrpcCode.Unknown, message: err instanceof Error ? err.message : String(err) };
}

/** etcd's gateway error body: `{"error": msg, "message": msg, "code": N}`. */
export function errorJson(status: GatewayStatus): string {
  const message = goJsonString(status.message);
  return `{"error":${message},"message":${message},"code":${status.code}}`;
}

/** The last object of a failed stream, as grpc-gateway v1 writes it once results have gone out. */
export function streamErrorJson(status: GatewayStatus): string {
  const httpCode = httpStatusFromCode(status.code);
  return `{"error":{"grpc_code":${status.code},"http_code":${httpCode},"message":${goJsonString(status.message)},"http_status":${goJsonString(STATUS_CODES[httpCode] ?? '')}}}`;
}

/** The headers every gateway answer carries: etcd's default CORS headers (its --cors is "*"). */
export const CORS_HEADERS: Readonly<Record<string, string>> = {
  'Access-Control-Allow-Methods': 'POST, GET, OPTIONS, PUT, DELETE',
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': 'accept, content-type, authorization',
};

/**
 * Answer a whole request with etcd's gateway error. `fromServer`: the failure is the gRPC
 * server's (a service's error, an unknown method, a message over the receive limit), which etcd's
 * gateway answers chunked with the call's trailer metadata as an HTTP trailer; its own failures
 * (a body it cannot decode) have neither.
 */
export function respondWithError(
  response: ServerResponse,
  status: GatewayStatus,
  options: { readonly headers?: Readonly<Record<string, string>>; readonly fromServer?: boolean } = {},
): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const body = errorJson(status);
  const headers = { ...CORS_HEADERS, 'Content-Type': 'application/json', ...options.headers };
  if (options.fromServer === true) {
    response.writeHead(httpStatusFromCode(status.code), { ...headers, Trailer: 'Grpc-Trailer-Content-Type' });
    response.write(body);
    response.addTrailers({ 'Grpc-Trailer-Content-Type': 'application/grpc' });
    response.end();
    return;
  }
  response.writeHead(httpStatusFromCode(status.code), { ...headers, 'Content-Length': Buffer.byteLength(body) });
  response.end(body);
}
