import type { Metadata, ServerUnaryCall, UntypedServiceImplementation } from '@grpc/grpc-js';
import { unaryMethodsOf, type EtcdCallContext, type EtcdUnaryMethods } from '@cairn/core';
import { signalOf } from './call-signal.js';
import { encodedSize } from './request-size.js';
import { unaryHandler } from './unary-handler.js';

/** Where etcd clients put their auth token (etcd's rpctypes.TokenFieldNameGRPC, then TokenFieldNameSwagger). */
const TOKEN_METADATA_KEYS = ['token', 'authorization'] as const;

function authTokenOf(metadata: Metadata): string | undefined {
  for (const key of TOKEN_METADATA_KEYS) {
    const value = metadata.get(key)[0];
    if (value !== undefined) return value.toString();
  }
  return undefined;
}

/** The call's context, its signal and token read only if the method asks (most never do). */
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
