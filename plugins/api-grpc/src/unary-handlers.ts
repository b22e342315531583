import type { ServerUnaryCall, UntypedServiceImplementation } from '@grpc/grpc-js';
import { unaryMethodsOf, type EtcdCallContext, type EtcdUnaryMethods } from '@cairn/core';
import { signalOf } from './call-signal.js';
import { authTokenOf } from './caller-credentials.js';
import { commonNameOf } from './peer-certificate.js';
import { encodedSize } from './request-size.js';
import { unaryHandler } from './unary-handler.js';

/** The call's context: its signal, token and certificate name read only when the method asks (the table authorizes each call). */
function callContext(request: object, call: ServerUnaryCall<object, object>): EtcdCallContext {
  let signal: AbortSignal | undefined;
  return {
    encodedSize: encodedSize(request),
    get signal(): AbortSignal {
      return (signal ??= signalOf(call));
    },
    get authToken(): string | undefined {
      return authTokenOf(call.metadata);
    },
    get commonName(): string | undefined {
      return commonNameOf(call);
    },
  };
}

/** grpc-js handlers for the unary methods the table has for `service` (e.g. `etcdserverpb.KV`). */
export function unaryHandlers(methods: EtcdUnaryMethods, service: string): UntypedServiceImplementation {
  const handlers: UntypedServiceImplementation = {};
  for (const [name, serve] of unaryMethodsOf(methods, service)) {
    handlers[name] = unaryHandler((request: object, call: ServerUnaryCall<object, object>) => serve(request, callContext(request, call)));
  }
  return handlers;
}
