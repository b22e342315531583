import type { ClientHttp2Session, IncomingHttpHeaders } from 'node:http2';
import { etcdServiceDefinition } from '../../src/index.js';

/** A unary call that did not end with grpc-status 0: how it ended instead. */
export class CallFailure extends Error {
  constructor(
    message: string,
    /** The RST_STREAM code when the server reset the stream (1: PROTOCOL_ERROR). */
    readonly rstCode: number | undefined,
  ) {
    super(message);
  }
}

/**
 * One unary gRPC call of an etcd service on a raw Node HTTP/2 session, with the `:authority` the
 * test chooses (grpc-js's own client would send a well-formed one): the decoded response.
 */
export function unaryCall<T = Record<string, unknown>>(
  session: ClientHttp2Session,
  authority: string,
  service: 'KV' | 'Maintenance',
  method: string,
  request: object,
): Promise<T> {
  const definition = etcdServiceDefinition(service)[method];
  if (definition === undefined) throw new Error(`no method ${service}.${method}`);
  const message = definition.requestSerialize(request);
  const framed = Buffer.alloc(5 + message.length);
  framed.writeUInt32BE(message.length, 1);
  message.copy(framed, 5);
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ':method': 'POST',
      ':path': definition.path,
      ':authority': authority,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const chunks: Buffer[] = [];
    let status: string | undefined;
    const statusOf = (headers: IncomingHttpHeaders): void => {
      const value = headers['grpc-status'];
      if (typeof value === 'string') status = value;
    };
    stream.on('response', statusOf);
    stream.on('trailers', statusOf);
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', () => {}); // the close handler reports it
    stream.on('close', () => {
      if (status !== '0') {
        reject(new CallFailure(`${service}.${method} ended with grpc-status ${status ?? 'none'}, RST_STREAM code ${stream.rstCode}`, stream.rstCode));
        return;
      }
      const body = Buffer.concat(chunks);
      resolve(definition.responseDeserialize(body.subarray(5, 5 + body.readUInt32BE(1))) as T);
    });
    stream.end(framed);
  });
}
