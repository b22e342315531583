import { expect } from 'chai';
import { b64, GatewayHarness } from './gateway-harness.js';

type Json = Record<string, unknown>;
const parse = (text: string): Json => JSON.parse(text) as Json;

describe('the JSON gateway on a member: unary RPCs', function () {
  this.timeout(30_000);
  let gw: GatewayHarness;
  before(async () => {
    gw = await GatewayHarness.start({ maxRequestBytes: 64 * 1024 });
  });
  after(() => gw.stop());

  it('puts and ranges with etcd 3.4 JSON: proto names, int64 strings, base64, defaults left out, CORS headers', async () => {
    const put = await gw.post('/v3/kv/put', { key: b64('foo'), value: b64('bar') });
    expect(put.status).to.equal(200);
    expect(put.headers['content-type']).to.equal('application/json');
    expect(put.headers['access-control-allow-origin']).to.equal('*');
    const header = parse(put.text)['header'] as Json;
    expect(Object.keys(header)).to.deep.equal(['cluster_id', 'member_id', 'revision', 'raft_term']);
    expect(header['revision']).to.be.a('string');

    const range = parse((await gw.post('/v3/kv/range', { key: b64('foo') })).text);
    expect(Object.keys(range)).to.deep.equal(['header', 'kvs', 'count']);
    const kv = (range['kvs'] as Json[])[0]!;
    expect(Object.keys(kv)).to.deep.equal(['key', 'create_revision', 'mod_revision', 'version', 'value']);
    expect(kv).to.include({ key: b64('foo'), value: b64('bar'), version: '1', create_revision: header['revision'] });
    expect(range['count']).to.equal('1');
  });

  it('takes camelCase names and enums by name, on /v3beta/ as on /v3/', async () => {
    await gw.post('/v3/kv/put', { key: b64('k1'), value: b64('1') });
    await gw.post('/v3/kv/put', { key: b64('k2'), value: b64('2') });
    const answer = await gw.post('/v3beta/kv/range', { key: b64('k'), rangeEnd: b64('l'), sortOrder: 'DESCEND', keysOnly: true });
    expect(answer.status).to.equal(200);
    const kvs = parse(answer.text)['kvs'] as Json[];
    expect(kvs.map((kv) => kv['key'])).to.deep.equal([b64('k2'), b64('k1')]);
    expect(kvs[0]).to.not.have.property('value');
  });

  it('runs a txn: compares, then the success branch, answering each op under its oneof name', async () => {
    const txn = parse(
      (
        await gw.post('/v3/kv/txn', {
          compare: [{ key: b64('foo'), target: 'VALUE', result: 'EQUAL', value: b64('bar') }],
          success: [{ request_put: { key: b64('foo'), value: b64('baz') } }, { request_range: { key: b64('foo') } }],
          failure: [],
        })
      ).text,
    );
    expect(txn['succeeded']).to.equal(true);
    const responses = txn['responses'] as Json[];
    expect(Object.keys(responses[0]!)).to.deep.equal(['response_put']);
    expect(((responses[1]!['response_range'] as Json)['kvs'] as Json[])[0]!['value']).to.equal(b64('baz'));
  });

  it('deletes with prev_kv and compacts', async () => {
    await gw.post('/v3/kv/put', { key: b64('gone'), value: b64('x') });
    const deleted = parse((await gw.post('/v3/kv/deleterange', { key: b64('gone'), prev_kv: true })).text);
    expect(deleted['deleted']).to.equal('1');
    expect((deleted['prev_kvs'] as Json[])[0]!['value']).to.equal(b64('x'));
    const revision = Number((deleted['header'] as Json)['revision']);
    expect((await gw.post('/v3/kv/compaction', { revision: String(revision - 1) })).status).to.equal(200);
    const old = await gw.post('/v3/kv/range', { key: b64('foo'), revision: 1 });
    expect(old.status).to.equal(400);
    expect(parse(old.text)).to.deep.equal({
      error: 'etcdserver: mvcc: required revision has been compacted',
      message: 'etcdserver: mvcc: required revision has been compacted',
      code: 11,
    });
  });

  it("answers errors in etcd's JSON shape with grpc-gateway's HTTP status", async () => {
    const future = await gw.post('/v3/kv/range', { key: b64('foo'), revision: '999999' });
    expect([future.status, parse(future.text)['code'], parse(future.text)['error']]).to.deep.equal([
      400,
      11,
      'etcdserver: mvcc: required revision is a future revision',
    ]);
    const noLease = await gw.post('/v3/lease/revoke', { ID: '12345' });
    expect([noLease.status, parse(noLease.text)['code'], parse(noLease.text)['message']]).to.deep.equal([404, 5, 'etcdserver: requested lease not found']);
    const empty = await gw.post('/v3/kv/put', {});
    expect([empty.status, parse(empty.text)['error']]).to.deep.equal([400, 'etcdserver: key is not provided']);
  });

  it('refuses bad JSON, bad base64, unknown fields and wrong types with InvalidArgument, changing nothing, and serves on', async () => {
    const before = parse((await gw.post('/v3/kv/range', { key: b64('foo') })).text);
    for (const [body, error] of [
      ['{"key":"Zm9v"', 'unexpected EOF'],
      ['{"key":"Zm9v","value":"!!"}', 'illegal base64 data at input byte 0'],
      ['{"key":"Zm9v","value":"YQ==","bogus":true}', 'unknown field "bogus" in etcdserverpb.PutRequest'],
      ['{"key":"Zm9v","lease":"soon"}', "invalid character 's' looking for beginning of value"],
      ['{"key":"Zm9v","prev_kv":"yes"}', 'json: cannot unmarshal string into Go value of type bool'],
    ] as const) {
      const answer = await gw.post('/v3/kv/put', body);
      expect(answer.status, body).to.equal(400);
      expect(parse(answer.text), body).to.deep.equal({ error, message: error, code: 3 });
    }
    const after = parse((await gw.post('/v3/kv/range', { key: b64('foo') })).text);
    expect((after['header'] as Json)['revision']).to.equal((before['header'] as Json)['revision']);
  });

  it('checks the protobuf size against --max-request-bytes, and refuses a body far over any limit unread', async () => {
    const overRequest = await gw.post('/v3/kv/put', { key: b64('big'), value: Buffer.alloc(65 * 1024).toString('base64') });
    expect([overRequest.status, parse(overRequest.text)['error'], parse(overRequest.text)['code']]).to.deep.equal([400, 'etcdserver: request is too large', 3]);
    const overReceive = await gw.post('/v3/kv/put', { key: b64('big'), value: Buffer.alloc(600 * 1024).toString('base64') });
    expect(overReceive.status).to.equal(429);
    expect(parse(overReceive.text)).to.include({ code: 8, error: `grpc: received message larger than max (${600 * 1024 + 9} vs. ${64 * 1024 + 512 * 1024})` });
    // A read of the same size is not a write: only the receive limit applies.
    expect((await gw.post('/v3/kv/range', { key: Buffer.alloc(60 * 1024).toString('base64') })).status).to.equal(200);
    const huge = await gw.post('/v3/kv/put', `{"key":"${'A'.repeat(3 * 1024 * 1024)}"}`);
    expect([huge.status, parse(huge.text)['error'], huge.headers['connection']]).to.deep.equal([400, 'etcdserver: request is too large', 'close']);
    expect((await gw.post('/v3/kv/range', { key: b64('foo') })).status).to.equal(200);
  });

  it('answers as etcd for paths and methods it does not route: 404, 405, and a CORS preflight', async () => {
    const unknown = await gw.post('/v3/kv/nothing', {});
    expect([unknown.status, unknown.text]).to.deep.equal([404, 'Not Found\n']);
    const get = await gw.request('GET', '/v3/kv/range');
    expect([get.status, get.text]).to.deep.equal([405, 'Method Not Allowed\n']);
    const preflight = await gw.request('OPTIONS', '/v3/kv/put');
    expect([preflight.status, preflight.headers['access-control-allow-headers']]).to.deep.equal([200, 'accept, content-type, authorization']);
    // Not the gateway's: left to the next route (here the harness's 404).
    expect((await gw.request('GET', '/v3alpha/kv/range')).text).to.equal('404 page not found\n');
  });

  it('serves Auth through the table: Authenticate while auth is off gets etcd’s answer (400, code 9)', async () => {
    const answer = await gw.post('/v3/auth/authenticate', { name: 'root', password: 'x' });
    expect(answer.status).to.equal(400);
    expect(parse(answer.text)).to.deep.equal({
      error: 'etcdserver: authentication is not enabled',
      message: 'etcdserver: authentication is not enabled',
      code: 9,
    });
  });

  it('answers AuthStatus at etcd 3.5’s /v3/auth/status', async () => {
    const answer = await gw.post('/v3/auth/status', {});
    expect(answer.status).to.equal(200);
    const body = parse(answer.text) as { header?: object; enabled?: boolean; authRevision?: string };
    expect(body.header).to.be.an('object');
    // Defaults are left out, as etcd's gateway leaves them: auth is off, no revision yet.
    expect(body.enabled).to.equal(undefined);
  });

  it('takes an Authorization token with or without "Bearer "', async () => {
    for (const authorization of ['Bearer abc.def', 'abc.def']) {
      expect((await gw.post('/v3/kv/range', { key: b64('foo') }, { Authorization: authorization })).status).to.equal(200);
    }
  });

  it('grants, lists, inspects and revokes leases (both 3.4 paths)', async () => {
    const granted = parse((await gw.post('/v3/lease/grant', { TTL: 60, ID: '7001' })).text);
    expect(granted).to.include({ ID: '7001', TTL: '60' });
    const ttl = parse((await gw.post('/v3/kv/lease/timetolive', { ID: '7001', keys: true })).text);
    expect(ttl).to.include({ ID: '7001', grantedTTL: '60' });
    expect((parse((await gw.post('/v3/lease/leases', {})).text)['leases'] as Json[]).map((l) => l['ID'])).to.include('7001');
    expect((await gw.post('/v3/kv/lease/revoke', { ID: '7001' })).status).to.equal(200);
  });

  it('serves the cluster, maintenance, lock and election RPCs', async () => {
    const members = parse((await gw.post('/v3/cluster/member/list', {})).text)['members'] as Json[];
    expect(Object.keys(members[0]!)).to.include.members(['ID', 'name', 'peerURLs']);
    const status = parse((await gw.post('/v3/maintenance/status', {})).text);
    expect(status).to.include.keys('version', 'dbSize', 'leader', 'raftIndex', 'raftTerm');
    expect(parse((await gw.post('/v3/maintenance/hash', {})).text)).to.have.keys('header', 'hash');
    expect(parse((await gw.post('/v3/maintenance/hashkv', { revision: 0 })).text)).to.include.keys('hash', 'hash_revision');

    const locked = parse((await gw.post('/v3/lock/lock', { name: b64('mutex') })).text);
    expect(Buffer.from(locked['key'] as string, 'base64').toString()).to.match(/^mutex\//);
    expect((await gw.post('/v3/lock/unlock', { key: locked['key'] })).status).to.equal(200);

    const won = parse((await gw.post('/v3/election/campaign', { name: b64('e'), value: b64('v1') })).text)['leader'] as Json;
    expect(won['name']).to.equal(b64('e'));
    expect((parse((await gw.post('/v3/election/leader', { name: b64('e') })).text)['kv'] as Json)['value']).to.equal(b64('v1'));
    expect((await gw.post('/v3/election/proclaim', { leader: won, value: b64('v2') })).status).to.equal(200);
    expect((await gw.post('/v3/election/resign', { leader: won })).status).to.equal(200);
  });
});
