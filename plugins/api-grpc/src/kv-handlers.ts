import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { EtcdErrors, type KvService } from '@cairn/core';
import {
  compactionRequestFromWire,
  deleteRangeRequestFromWire,
  deleteRangeResponseToWire,
  headerToWire,
  putRequestFromWire,
  putResponseToWire,
  rangeRequestFromWire,
  rangeResponseToWire,
  txnRequestFromWire,
  txnResponseToWire,
} from './kv-codec.js';
import { encodedSize } from './request-size.js';
import { unaryHandler } from './unary-handler.js';
import type {
  WireCompactionRequest,
  WireDeleteRangeRequest,
  WireDeleteRangeResponse,
  WireHeaderOnlyResponse,
  WirePutRequest,
  WirePutResponse,
  WireRangeRequest,
  WireRangeResponse,
  WireTxnRequest,
  WireTxnResponse,
} from './wire-types.js';

/**
 * etcd's KV service over the core's KvService. Writes larger than --max-request-bytes are refused
 * before they reach the service, as etcd refuses them before proposing.
 */
export function kvHandlers(kv: KvService, maxRequestBytes: number): UntypedServiceImplementation {
  const checkSize = (request: object): void => {
    if (encodedSize(request) > maxRequestBytes) throw EtcdErrors.requestTooLarge();
  };
  return {
    Range: unaryHandler(async (request: WireRangeRequest): Promise<WireRangeResponse> => rangeResponseToWire(await kv.range(rangeRequestFromWire(request)))),
    Put: unaryHandler(async (request: WirePutRequest): Promise<WirePutResponse> => {
      checkSize(request);
      return putResponseToWire(await kv.put(putRequestFromWire(request)));
    }),
    DeleteRange: unaryHandler(async (request: WireDeleteRangeRequest): Promise<WireDeleteRangeResponse> => {
      checkSize(request);
      return deleteRangeResponseToWire(await kv.deleteRange(deleteRangeRequestFromWire(request)));
    }),
    Txn: unaryHandler(async (request: WireTxnRequest): Promise<WireTxnResponse> => {
      checkSize(request);
      return txnResponseToWire(await kv.txn(txnRequestFromWire(request)));
    }),
    Compact: unaryHandler(async (request: WireCompactionRequest): Promise<WireHeaderOnlyResponse> => {
      checkSize(request);
      const response = await kv.compact(compactionRequestFromWire(request));
      return { header: headerToWire(response.header) };
    }),
  };
}
