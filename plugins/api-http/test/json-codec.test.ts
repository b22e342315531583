import { expect } from 'chai';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { ETCD_PROTO_FILES, etcdProtoDir } from '@cairn/core';
import { decodeJsonMessage, RequestDecodeError } from '../src/gateway/json-request-decoder.js';
import { encodeJsonMessage } from '../src/gateway/json-response-encoder.js';
import { JsonSyntaxError, parseJsonText, readJsonValue } from '../src/gateway/json-text.js';
import { EtcdProtoSchemas, protoJsonName } from '../src/gateway/proto-schema.js';

const schemas = new EtcdProtoSchemas();
const request = (method: string) => schemas.method(method).request;

/** Decode request JSON text as the gateway does (first value of the body). */
const decode = (method: string, json: string) => decodeJsonMessage(request(method), readJsonValue(json)?.value);

function decodeFailure(method: string, json: string): string {
  try {
    decode(method, json);
  } catch (err) {
    expect(err).to.be.instanceOf(RequestDecodeError);
    return (err as Error).message;
  }
  throw new Error(`${json} was expected not to decode`);
}

/** protobufjs' own encoding of the same message: the size etcd's gateway would send over gRPC. */
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(etcdProtoDir(), target);
root.loadSync([...ETCD_PROTO_FILES], { keepCase: true });
const protobufSize = (type: string, object: Record<string, unknown>): number => {
  const t = root.lookupType(type);
  return t.encode(t.fromObject(object)).finish().length;
};

describe("the gateway's JSON codec (etcd 3.4's grpc-gateway / jsonpb)", () => {
  describe('requests', () => {
    it('takes a field by its proto name or its lowerCamel JSON name, and fills the rest with proto3 defaults', () => {
      const { message } = decode('etcdserverpb.KV/Range', '{"key":"Zm9v","rangeEnd":"Zm9w","keys_only":true,"countOnly":true}');
      expect(Buffer.from(message['key'] as Buffer).toString()).to.equal('foo');
      expect(Buffer.from(message['range_end'] as Buffer).toString()).to.equal('fop');
      expect(message['keys_only']).to.equal(true);
      expect(message['count_only']).to.equal(true);
      expect(message['limit']).to.equal('0');
      expect(message['sort_order']).to.equal(0);
      expect(message['serializable']).to.equal(false);
      expect(protoJsonName('remaining_TTL')).to.equal('remainingTTL');
      expect(protoJsonName('peerURLs')).to.equal('peerURLs');
    });

    it('reads 64-bit integers from strings or numbers, exactly, and refuses what does not fit', () => {
      expect(decode('etcdserverpb.Lease/LeaseGrant', '{"TTL":"60","ID":9007199254740993}').message).to.deep.equal({ TTL: '60', ID: '9007199254740993' });
      expect(decode('etcdserverpb.Lease/LeaseGrant', '{"ID":"-9223372036854775808"}').message['ID']).to.equal('-9223372036854775808');
      expect(decodeFailure('etcdserverpb.Lease/LeaseGrant', '{"ID":"9223372036854775808"}')).to.equal(
        'json: cannot unmarshal number 9223372036854775808 into Go value of type int64',
      );
      expect(decodeFailure('etcdserverpb.KV/Range', '{"limit":1.5}')).to.equal('json: cannot unmarshal number 1.5 into Go value of type int64');
      expect(decodeFailure('etcdserverpb.KV/Range', '{"limit":"x"}')).to.equal("invalid character 'x' looking for beginning of value");
      expect(decodeFailure('etcdserverpb.Cluster/MemberRemove', '{"ID":-1}')).to.equal('json: cannot unmarshal number -1 into Go value of type uint64');
      expect(decodeFailure('etcdserverpb.KV/Range', '{"limit":true}')).to.equal('json: cannot unmarshal bool into Go value of type int64');
    });

    it('reads bytes as standard base64, URL-safe too, and refuses anything else with etcd words', () => {
      expect(Buffer.from(decode('etcdserverpb.KV/Put', '{"key":"+/+/"}').message['key'] as Buffer)).to.deep.equal(Buffer.from([0xfb, 0xff, 0xbf]));
      expect(Buffer.from(decode('etcdserverpb.KV/Put', '{"key":"-_-_"}').message['key'] as Buffer)).to.deep.equal(Buffer.from([0xfb, 0xff, 0xbf]));
      expect(Buffer.from(decode('etcdserverpb.KV/Put', '{"key":"YQ"}').message['key'] as Buffer).toString()).to.equal('a');
      expect(decodeFailure('etcdserverpb.KV/Put', '{"key":"Zm9v!!"}')).to.equal('illegal base64 data at input byte 4');
      expect(decodeFailure('etcdserverpb.KV/Put', '{"key":"Zm9v+-"}')).to.equal('illegal base64 data at input byte 5');
      expect(decodeFailure('etcdserverpb.KV/Put', '{"key":"Zm9vY"}')).to.equal('illegal base64 data at input byte 4');
      expect(decodeFailure('etcdserverpb.KV/Put', '{"key":5}')).to.equal('json: cannot unmarshal number into Go value of type []uint8');
    });

    it('reads enums by name or number, and names the Go enum type of a name it does not know', () => {
      expect(decode('etcdserverpb.KV/Range', '{"sort_order":"DESCEND","sortTarget":"MOD"}').message).to.include({ sort_order: 2, sort_target: 3 });
      expect(decode('etcdserverpb.KV/Range', '{"sort_order":1}').message['sort_order']).to.equal(1);
      expect(decodeFailure('etcdserverpb.KV/Range', '{"sort_order":"NOPE"}')).to.equal('unknown value "NOPE" for enum etcdserverpb.RangeRequest_SortOrder');
      expect(decodeFailure('etcdserverpb.KV/Range', '{"sort_order":true}')).to.equal(
        'json: cannot unmarshal bool into Go value of type etcdserverpb.RangeRequest_SortOrder',
      );
    });

    it('refuses an unknown field and a value of the wrong type, naming the Go message type', () => {
      expect(decodeFailure('etcdserverpb.KV/Range', '{"key":"Zm9v","bogus":1}')).to.equal('unknown field "bogus" in etcdserverpb.RangeRequest');
      expect(decodeFailure('etcdserverpb.KV/Txn', '{"compare":[{"key":"YQ==","oops":1}]}')).to.equal('unknown field "oops" in etcdserverpb.Compare');
      expect(decodeFailure('etcdserverpb.KV/Range', '{"serializable":"true"}')).to.equal('json: cannot unmarshal string into Go value of type bool');
      expect(decodeFailure('etcdserverpb.KV/Range', '[]')).to.equal('json: cannot unmarshal array into Go value of type map[string]json.RawMessage');
      expect(decodeFailure('etcdserverpb.KV/Txn', '{"compare":{}}')).to.equal('json: cannot unmarshal object into Go value of type []json.RawMessage');
    });

    it('takes null and an empty body as absent, and names the member of a oneof that is set', () => {
      expect(decode('etcdserverpb.KV/Range', '').message['key']).to.deep.equal(Buffer.alloc(0));
      expect(decode('etcdserverpb.KV/Range', 'null').message['limit']).to.equal('0');
      expect(decode('etcdserverpb.KV/Range', '{"key":null}').message['key']).to.deep.equal(Buffer.alloc(0));
      const watch = decode('etcdserverpb.Watch/Watch', '{"create_request":{"key":"YQ==","filters":["NODELETE"]}}').message;
      expect(watch['request_union']).to.equal('create_request');
      expect((watch['create_request'] as Record<string, unknown>)['filters']).to.deep.equal([1]);
      const compare = (decode('etcdserverpb.KV/Txn', '{"compare":[{"key":"YQ==","version":"0"}]}').message['compare'] as Record<string, unknown>[])[0]!;
      expect(compare['target_union']).to.equal('version');
      expect(compare['version']).to.equal('0');
      expect(compare).to.not.have.property('mod_revision');
    });

    it("adds up each request's protobuf size as protobuf encodes it (what --max-request-bytes is checked against)", () => {
      const cases: [string, string, Record<string, unknown>][] = [
        ['etcdserverpb.KV/Put', 'etcdserverpb.PutRequest', { key: 'Zm9v', value: Buffer.alloc(300).toString('base64'), lease: '-5', prev_kv: true }],
        ['etcdserverpb.KV/Range', 'etcdserverpb.RangeRequest', { key: 'YQ==', range_end: 'AA==', limit: '9007199254740993', sort_order: 'DESCEND' }],
        [
          'etcdserverpb.KV/Txn',
          'etcdserverpb.TxnRequest',
          {
            compare: [
              { key: 'YQ==', version: '0', range_end: 'Yg==', result: 'GREATER' },
              { key: 'Yg==', target: 'VALUE', value: '' },
            ],
            success: [{ request_put: { key: 'YQ==', value: 'Yg==' } }, { request_range: {} }],
            failure: [{ request_txn: { success: [{ request_delete_range: { key: 'YQ==' } }] } }],
          },
        ],
        ['etcdserverpb.Watch/Watch', 'etcdserverpb.WatchRequest', { create_request: { key: 'YQ==', filters: ['NOPUT', 'NODELETE'], start_revision: '7' } }],
        ['etcdserverpb.Cluster/MemberAdd', 'etcdserverpb.MemberAddRequest', { peerURLs: ['http://127.0.0.1:2380', ''] }],
      ];
      for (const [method, type, object] of cases) {
        expect(decode(method, JSON.stringify(object)).size, method).to.equal(protobufSize(type, object));
      }
    });
  });

  describe('responses', () => {
    const rangeResponse = schemas.method('etcdserverpb.KV/Range').response;

    it('writes proto field names, 64-bit integers as strings, bytes as base64, and leaves proto3 defaults out', () => {
      const json = encodeJsonMessage(rangeResponse, {
        header: { cluster_id: '14841639068965178418', member_id: '10276657743932975437', revision: 3, raft_term: 2 },
        kvs: [{ key: Buffer.from('foo'), create_revision: 2, mod_revision: 3, version: 2, value: Buffer.from('bar'), lease: 0 }],
        more: false,
        count: 1,
      });
      expect(json).to.equal(
        '{"header":{"cluster_id":"14841639068965178418","member_id":"10276657743932975437","revision":"3","raft_term":"2"},' +
          '"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"YmFy"}],"count":"1"}',
      );
      expect(
        encodeJsonMessage(rangeResponse, { header: { cluster_id: '0', member_id: '0', revision: 0, raft_term: 0 }, kvs: [], more: false, count: 0 }),
      ).to.equal('{"header":{}}');
    });

    it('writes enums by name (the default left out) and escapes strings as Go does', () => {
      const event = schemas.messageNamed('mvccpb.Event');
      expect(encodeJsonMessage(event, { type: 1, kv: { key: Buffer.from('a'), mod_revision: '5' } })).to.equal(
        '{"type":"DELETE","kv":{"key":"YQ==","mod_revision":"5"}}',
      );
      expect(encodeJsonMessage(event, { type: 0, kv: { key: Buffer.from('a') } })).to.equal('{"kv":{"key":"YQ=="}}');
      const status = schemas.method('etcdserverpb.Maintenance/Status').response;
      expect(encodeJsonMessage(status, { version: '<3.4&>', errors: ['a\nb'] })).to.equal('{"version":"\\u003c3.4\\u0026\\u003e","errors":["a\\nb"]}');
    });
  });

  describe('JSON text', () => {
    it("reports malformed JSON in Go's encoding/json words", () => {
      const failure = (text: string): string => {
        try {
          readJsonValue(text);
        } catch (err) {
          expect(err).to.be.instanceOf(JsonSyntaxError);
          return (err as Error).message;
        }
        throw new Error(`${text} was expected to fail`);
      };
      expect(failure('{"key":"Zm9v"')).to.equal('unexpected EOF');
      expect(failure('{"key" "x"}')).to.equal(`invalid character '"' after object key`);
      expect(failure('{"key":"x" "y"}')).to.equal(`invalid character '"' after object key:value pair`);
      expect(failure('{key:1}')).to.equal("invalid character 'k' looking for beginning of object key string");
      expect(failure('[1 2]')).to.equal("invalid character '2' after array element");
      expect(failure('tru')).to.equal('unexpected EOF');
      expect(failure('trux')).to.equal("invalid character 'x' in literal true (expecting 'e')");
      expect(failure('{"a":"\\q"}')).to.equal("invalid character 'q' in string escape code");
      expect(failure('x')).to.equal("invalid character 'x' looking for beginning of value");
    });

    it('keeps the text of numbers, reads one value at a time, and leaves what follows for the next read', () => {
      const first = readJsonValue('{"ID":18446744073709551615} {"ID":2}');
      expect(first?.value).to.deep.equal({ kind: 'object', members: new Map([['ID', { kind: 'number', text: '18446744073709551615' }]]) });
      expect(readJsonValue('{"ID":18446744073709551615} {"ID":2}', first!.end)?.value.kind).to.equal('object');
      expect(readJsonValue('  \n ')).to.equal(undefined);
      expect(() => parseJsonText('1 2')).to.throw("invalid character '2' after top-level value");
    });
  });
});
