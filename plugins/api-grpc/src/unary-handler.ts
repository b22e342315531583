import { toGrpcStatus } from './grpc-status.js';
import type { UnaryHandler, UnaryServerCall } from './server/server-calls.js';

/** A unary handler from an async function; a rejection becomes the call's status. */
export function unaryHandler(serve: (request: object, call: UnaryServerCall) => Promise<object>): UnaryHandler {
  return (call, callback): void => {
    let pending: Promise<object>;
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
