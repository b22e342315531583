import type { MethodDefinition, ServiceDefinition } from '@grpc/proto-loader';

/** Encoded size of each request message the server decoded, for etcd's --max-request-bytes check. */
const encodedSizes = new WeakMap<object, number>();

/** How many bytes `request` had on the wire (0 if it did not come through a measured definition). */
export function encodedSize(request: object): number {
  return encodedSizes.get(request) ?? 0;
}

/** The same service whose request decoders remember each message's encoded size. */
export function measuringRequestSizes(definition: ServiceDefinition): ServiceDefinition {
  const measured: ServiceDefinition = {};
  for (const [name, method] of Object.entries(definition)) {
    const decode = method.requestDeserialize;
    const wrapped: MethodDefinition<object, object> = {
      ...method,
      requestDeserialize: (bytes: Buffer): object => {
        const message = decode(bytes);
        encodedSizes.set(message, bytes.length);
        return message;
      },
    };
    measured[name] = wrapped;
  }
  return measured;
}
