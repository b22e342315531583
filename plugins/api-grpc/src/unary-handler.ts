import type { handleUnaryCall, sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { toGrpcStatus } from './grpc-status.js';

/** A grpc-js unary handler from an async function; a rejection becomes the call's status. */
export function unaryHandler<Request, Response>(
  serve: (request: Request, call: ServerUnaryCall<Request, Response>) => Promise<Response>,
): handleUnaryCall<Request, Response> {
  return (call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>): void => {
    let pending: Promise<Response>;
    try {
      pending = serve(call.request, call);
    } catch (err) {
      callback(toGrpcStatus(err));
      return;
    }
    pending.then(
      (response) => callback(null, response),
      (err: unknown) => callback(toGrpcStatus(err)),
    );
  };
}
