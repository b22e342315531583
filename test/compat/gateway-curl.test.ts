import { expect } from 'chai';
import { cairnProcessFixture } from './cairn-fixture.js';
import { curl, type CurlAnswer } from './curl.js';
import { CurlStream, jsonLines, sseEvents } from './curl-stream.js';

type Json = Record<string, unknown>;
const b64 = (text: string): string => Buffer.from(text).toString('base64');
/** The answer's JSON; `curl -i` prints an error's HTTP trailer (etcd's Grpc-Trailer-Content-Type) right after it. */
const json = (answer: CurlAnswer): Json => JSON.parse(answer.body.replace(/Grpc-Trailer-[^\r\n]*\r?\n?$/, '')) as Json;
const revisionOf = (answer: CurlAnswer): number => Number((json(answer)['header'] as Json)['revision']);

/** etcd's JSON gateway of a cairn process, driven with the real curl binary, as etcd's documentation drives it. */
describe('the JSON gateway of a cairn process, with curl', function () {
  this.timeout(60_000);
  const fixture = cairnProcessFixture('gateway-curl');
  const url = (path: string): string => `http://${fixture.server.endpoint}${path}`;
  /** `curl -X POST -d <body> <url>`. */
  const post = (path: string, body: unknown, args: readonly string[] = []): Promise<CurlAnswer> =>
    curl(url(path), ['-X', 'POST', '-d', typeof body === 'string' ? body : JSON.stringify(body), ...args]);
  const streams: CurlStream[] = [];
  const stream = (args: readonly string[]): CurlStream => {
    const started = CurlStream.start(args);
    streams.push(started);
    return started;
  };
  afterEach(async () => {
    for (const s of streams.splice(0)) await s.stop();
  });

  it('puts, ranges, deletes, runs a txn and compacts', async () => {
    const put = await post('/v3/kv/put', { key: b64('foo'), value: b64('bar') });
    expect(put.status).to.equal(200);
    expect(put.headers['content-type']).to.equal('application/json');
    const range = json(await post('/v3/kv/range', { key: b64('foo') }));
    expect((range['kvs'] as Json[])[0]).to.deep.include({ key: b64('foo'), value: b64('bar'), version: '1' });
    expect(range['count']).to.equal('1');

    const txn = json(
      await post('/v3/kv/txn', {
        compare: [{ target: 'VALUE', key: b64('foo'), value: b64('bar') }],
        success: [{ request_put: { key: b64('foo'), value: b64('baz') } }],
        failure: [{ request_range: { key: b64('foo') } }],
      }),
    );
    expect(txn['succeeded']).to.equal(true);

    const deleted = await post('/v3/kv/deleterange', { key: b64('foo'), prev_kv: true });
    expect((json(deleted)['prev_kvs'] as Json[])[0]).to.deep.include({ value: b64('baz') });
    const compacted = await post('/v3/kv/compaction', { revision: String(revisionOf(deleted)) });
    expect(compacted.status).to.equal(200);
    const old = await post('/v3/kv/range', { key: b64('foo'), revision: 2 });
    expect([old.status, json(old)]).to.deep.equal([
      400,
      { error: 'etcdserver: mvcc: required revision has been compacted', message: 'etcdserver: mvcc: required revision has been compacted', code: 11 },
    ]);
  });

  it('streams watch events to `curl -N` while the request is open', async () => {
    const watch = stream([url('/v3/watch'), '-X', 'POST', '-d', JSON.stringify({ create_request: { key: b64('w/'), range_end: b64('w0') } })]);
    await watch.until((out) => jsonLines(out).length === 1);
    expect((jsonLines(watch.stdout)[0]!['result'] as Json)['created']).to.equal(true);
    await post('/v3/kv/put', { key: b64('w/1'), value: b64('one') });
    await watch.until((out) => jsonLines(out).length === 2);
    await post('/v3/kv/deleterange', { key: b64('w/1') });
    await watch.until((out) => jsonLines(out).length === 3);
    const events = jsonLines(watch.stdout)
      .slice(1)
      .map((line) => ((line['result'] as Json)['events'] as Json[])[0]!);
    expect(events[0]!['kv']).to.deep.include({ key: b64('w/1'), value: b64('one') });
    expect(events[1]!['type']).to.equal('DELETE');
  });

  it('grants a lease, keeps it alive over a stream, and revokes it', async () => {
    const granted = json(await post('/v3/lease/grant', { TTL: 30 }));
    const id = granted['ID'] as string;
    expect(granted['TTL']).to.equal('30');
    const keepAlive = stream([url('/v3/lease/keepalive'), '-X', 'POST', '-d', `{"ID":"${id}"}\n{"ID":"${id}"}`]);
    expect(await keepAlive.ended()).to.equal(0);
    expect(jsonLines(keepAlive.stdout).map((line) => (line['result'] as Json)['ID'])).to.deep.equal([id, id]);
    expect(json(await post('/v3/lease/timetolive', { ID: id }))['grantedTTL']).to.equal('30');
    expect((await post('/v3/lease/revoke', { ID: id })).status).to.equal(200);
    const again = await post('/v3/kv/lease/revoke', { ID: id });
    expect([again.status, json(again)['error']]).to.deep.equal([404, 'etcdserver: requested lease not found']);
  });

  it('locks and unlocks; campaigns and reads the leader', async () => {
    const locked = json(await post('/v3/lock/lock', { name: b64('mutex') }));
    expect(Buffer.from(locked['key'] as string, 'base64').toString()).to.match(/^mutex\//);
    expect((await post('/v3/lock/unlock', { key: locked['key'] })).status).to.equal(200);
    const leader = json(await post('/v3/election/campaign', { name: b64('election'), value: b64('me') }))['leader'] as Json;
    expect(leader['name']).to.equal(b64('election'));
    const current = json(await post('/v3/election/leader', { name: b64('election') }));
    expect((current['kv'] as Json)['value']).to.equal(b64('me'));
  });

  it('lists members and reports status', async () => {
    const members = json(await post('/v3/cluster/member/list', {}))['members'] as Json[];
    expect(members).to.have.length(1);
    expect(members[0]!['clientURLs']).to.deep.equal([url('')]);
    const status = json(await post('/v3/maintenance/status', {}));
    expect(status['leader']).to.equal(members[0]!['ID']);
    expect(status).to.include.keys('version', 'dbSize', 'raftIndex', 'raftTerm');
  });

  it("answers errors in etcd's JSON shape, serves /v3beta/, and serves on after bad JSON", async () => {
    const empty = await post('/v3/kv/put', {});
    expect([empty.status, json(empty)]).to.deep.equal([400, { error: 'etcdserver: key is not provided', message: 'etcdserver: key is not provided', code: 3 }]);
    expect(json(await post('/v3beta/kv/put', { key: b64('beta'), value: b64('b') }))).to.have.key('header');
    const bad = await post('/v3/kv/put', '{"key": "YmV0YQ==", "value": ');
    expect([bad.status, json(bad)]).to.deep.equal([400, { error: 'unexpected EOF', message: 'unexpected EOF', code: 3 }]);
    const unknown = await post('/v3/kv/put', { key: b64('beta'), value: b64('c'), bogus: 1 });
    expect([unknown.status, json(unknown)['error']]).to.deep.equal([400, 'unknown field "bogus" in etcdserverpb.PutRequest']);
    const after = json(await post('/v3beta/kv/range', { key: b64('beta') }));
    expect((after['kvs'] as Json[])[0]!['value']).to.equal(b64('b'));
  });

  it('follows a prefix as Server-Sent Events with `curl -N`, and resumes from Last-Event-ID', async () => {
    const sse = stream([url('/v3/watch?key=/sse/&prefix=true'), '-H', 'Accept: text/event-stream']);
    await sse.until((out) => out.includes(': watching'));
    const first = revisionOf(await post('/v3/kv/put', { key: b64('/sse/a'), value: b64('1') }));
    const second = revisionOf(await post('/v3/kv/put', { key: b64('/sse/b'), value: b64('2') }));
    await sse.until((out) => sseEvents(out).length === 2);
    expect(sseEvents(sse.stdout).map((e) => e['id'])).to.deep.equal([String(first), String(second)]);
    await sse.stop();

    // The client went away after the first event: it resumes from there and gets only the second.
    const resumed = stream([url('/v3/watch?key=/sse/&prefix=true'), '-H', 'Accept: text/event-stream', '-H', `Last-Event-ID: ${first}`]);
    await resumed.until((out) => sseEvents(out).length === 1);
    const [event] = sseEvents(resumed.stdout);
    expect(event!['id']).to.equal(String(second));
    expect(((JSON.parse(event!['data']!) as Json)['kv'] as Json)['key']).to.equal(b64('/sse/b'));
  });
});
