import { unaryMethodsOf, type EtcdCallContext, type EtcdUnaryMethods } from '@cairn/core';
import { signalOf } from './call-signal.js';
import { authTokenOf } from './caller-credentials.js';
import type { ServiceImplementation } from './server/grpc-http2-server.js';
import type { UnaryServerCall } from './server/server-calls.js';
import { unaryHandler } from './unary-handler.js';

/** The call's context: its signal, token and certificate name read only when the method asks (the table authorizes each call). */
function callContext(call: UnaryServerCall): EtcdCallContext {
  let signal: AbortSignal | undefined;
  return {
    encodedSize: call.requestBytes,
    get signal(): AbortSignal {
      return (signal ??= signalOf(call));
    },
    get authToken(): string | undefined {
      return authTokenOf(call.metadata);
    },
    get commonName(): string | undefined {
      return call.commonName;
    },
  };
}

/** Handlers for the unary methods the table has for `service` (e.g. `etcdserverpb.KV`). */
export function unaryHandlers(methods: EtcdUnaryMethods, service: string): ServiceImplementation {
  const handlers: Record<string, ReturnType<typeof unaryHandler>> = {};
  for (const [name, serve] of unaryMethodsOf(methods, service)) {
    handlers[name] = unaryHandler((request, call) => serve(request, callContext(call)));
  }
  return handlers;
}
