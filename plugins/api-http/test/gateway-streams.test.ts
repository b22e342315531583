import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EtcdProtoSchemas } from '../src/gateway/proto-schema.js';
import { SseWatchStream } from '../src/gateway/sse-watch.js';
import { WatchResponseJson } from '../src/gateway/watch-response-json.js';
import { b64, GatewayHarness, results } from './gateway-harness.js';

type Json = Record<string, unknown>;

/** The SSE events of a stream so far: their fields (id, event, data), comments left out. */
function sseEvents(text: string): Record<string, string>[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const fields: Record<string, string> = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        fields[line.slice(0, colon)] = line.slice(colon + 1).trimStart();
      }
      return fields;
    })
    .filter((fields) => Object.keys(fields).length > 0);
}

const putRevision = async (gw: GatewayHarness, key: string, value: string): Promise<number> => {
  const answer = JSON.parse((await gw.post('/v3/kv/put', { key: b64(key), value: b64(value) })).text) as { header: { revision: string } };
  return Number(answer.header.revision);
};

describe('the JSON gateway on a member: streams', function () {
  this.timeout(30_000);
  let gw: GatewayHarness;
  before(async () => {
    gw = await GatewayHarness.start();
  });
  after(() => gw.stop());

  describe('POST /v3/watch', () => {
    it('streams {"result": WatchResponse} lines while the request is open, for every create of the body', async () => {
      const stream = gw.open(
        'POST',
        '/v3/watch',
        `{"create_request":{"key":"${b64('w/a')}"}} {"create_request":{"key":"${b64('w/')}","range_end":"${b64('w0')}","prev_kv":true}}`,
      );
      expect(await stream.status).to.equal(200);
      expect((await stream.headers)['content-type']).to.equal('application/json');
      await stream.until((t) => results(t).length === 2);
      const created = results(stream.text()).map((r) => r['result'] as Json);
      expect(created.map((r) => [r['created'], r['watch_id']])).to.deep.equal([
        [true, undefined],
        [true, '1'],
      ]);
      const revision = await putRevision(gw, 'w/a', 'one');
      await stream.until((t) => results(t).length === 4);
      const events = results(stream.text())
        .slice(2)
        .map((r) => r['result'] as Json);
      expect(events.map((r) => r['watch_id'] ?? '0').sort()).to.deep.equal(['0', '1']);
      for (const r of events) {
        expect((r['events'] as Json[])[0]!['kv']).to.include({ key: b64('w/a'), value: b64('one'), mod_revision: String(revision) });
      }
      stream.close();
    });

    it('cancels a watch and answers progress requests written later into the open body', async () => {
      const stream = gw.open('POST', '/v3/watch', undefined);
      stream.write(`{"create_request":{"key":"${b64('c')}"}}`);
      await stream.until((t) => results(t).length === 1);
      stream.write('{"progress_request":{}}\n{"cancel_request":{"watch_id":"0"}}');
      await stream.until((t) => results(t).length === 3);
      const [progress, canceled] = results(stream.text())
        .slice(1)
        .map((r) => r['result'] as Json);
      expect(progress!['watch_id']).to.equal('-1');
      expect(canceled).to.include({ canceled: true });
      stream.close();
    });

    it("answers a first request it cannot read as etcd's gateway does (UNKNOWN, 500), and ignores a later one", async () => {
      const bad = await gw.post('/v3/watch', '{"create_request":{"key":"!!"}}');
      expect(bad.status).to.equal(500);
      expect(JSON.parse(bad.text)).to.deep.equal({ error: 'illegal base64 data at input byte 0', message: 'illegal base64 data at input byte 0', code: 2 });
      const stream = gw.open('POST', '/v3/watch', `{"create_request":{"key":"${b64('later')}"}} {"bogus":1}`);
      await stream.until((t) => results(t).length === 1);
      await putRevision(gw, 'later', 'x');
      await stream.until((t) => results(t).length === 2);
      stream.close();
    });

    it('closes its watches when the client goes away, POST or SSE', async () => {
      const watchers = async (): Promise<number> => Number(/^etcd_debugging_mvcc_watcher_total (\d+)$/m.exec(await gw.services.metrics!.text())![1]);
      const before = await watchers();
      const post = gw.open('POST', '/v3/watch', `{"create_request":{"key":"${b64('gone')}"}} {"create_request":{"key":"${b64('gone2')}"}}`);
      const sse = gw.open('GET', '/v3/watch?key=gone', undefined, { Accept: 'text/event-stream' });
      await post.until((t) => results(t).length === 2);
      await sse.until((t) => t.includes(': watching'));
      expect(await watchers()).to.equal(before + 3);
      post.close();
      sse.close();
      for (let tries = 0; (await watchers()) !== before; tries++) {
        if (tries > 100) throw new Error(`still ${await watchers()} watchers, ${before} before`);
        await new Promise((r) => setTimeout(r, 20));
      }
    });

    it('sends a compacted start revision as a canceled response carrying compact_revision', async () => {
      const revision = await putRevision(gw, 'compacted', 'x');
      await gw.post('/v3/kv/compaction', { revision: String(revision) });
      const stream = gw.open('POST', '/v3/watch', `{"create_request":{"key":"${b64('compacted')}","start_revision":"1"}}`);
      await stream.until((t) => results(t).length === 2);
      expect(results(stream.text())[1]!['result']).to.include({ canceled: true, compact_revision: String(revision) });
      stream.close();
    });
  });

  it('POST /v3/lease/keepalive answers each request and ends when the body has', async () => {
    await gw.post('/v3/lease/grant', { TTL: 60, ID: 4242 });
    const stream = gw.open('POST', '/v3/lease/keepalive', '{"ID":4242}\n{"ID":"4242"}\n{"ID":"999"}');
    await stream.ended;
    const answers = results(stream.text()).map((r) => r['result'] as Json);
    expect(answers.map((a) => [a['ID'], a['TTL']]).sort()).to.deep.equal([
      ['4242', '60'],
      ['4242', '60'],
      ['999', undefined],
    ]);
  });

  it('POST /v3/election/observe streams each proclamation', async () => {
    const won = (JSON.parse((await gw.post('/v3/election/campaign', { name: b64('obs'), value: b64('first') })).text) as Json)['leader'];
    const stream = gw.open('POST', '/v3/election/observe', JSON.stringify({ name: b64('obs') }));
    await stream.until((t) => results(t).length === 1);
    await gw.post('/v3/election/proclaim', { leader: won, value: b64('second') });
    await stream.until((t) => results(t).length === 2);
    const values = results(stream.text()).map((r) => ((r['result'] as Json)['kv'] as Json)['value']);
    expect(values).to.deep.equal([b64('first'), b64('second')]);
    stream.close();
  });

  it("POST /v3/maintenance/snapshot streams the backend in blobs, the last the SHA-256 of the rest (etcd's format)", async () => {
    const stream = gw.open('POST', '/v3/maintenance/snapshot', '{}');
    await stream.ended;
    const blobs = results(stream.text()).map((r) => Buffer.from((r['result'] as Json)['blob'] as string, 'base64'));
    expect(blobs.length).to.be.greaterThan(1);
    const digest = createHash('sha256')
      .update(Buffer.concat(blobs.slice(0, -1)))
      .digest();
    expect(blobs.at(-1)).to.deep.equal(digest);
  });

  describe('GET /v3/watch with Accept: text/event-stream (SSE)', () => {
    const sse = { Accept: 'text/event-stream' };

    it('sends one event per etcd event, the id (the revision) on the last event of each revision', async () => {
      const stream = gw.open('GET', '/v3/watch?key=/sse/&prefix=true', undefined, sse);
      expect((await stream.headers)['content-type']).to.equal('text/event-stream');
      await stream.until((t) => t.includes(': watching'));
      const first = await putRevision(gw, '/sse/a', '1');
      const txn = JSON.parse(
        (
          await gw.post('/v3/kv/txn', {
            success: [{ request_put: { key: b64('/sse/b'), value: b64('2') } }, { request_put: { key: b64('/sse/c'), value: b64('3') } }],
          })
        ).text,
      ) as { header: { revision: string } };
      await stream.until((t) => sseEvents(t).length === 3);
      const events = sseEvents(stream.text());
      expect(events.map((e) => e['id'])).to.deep.equal([String(first), undefined, txn.header.revision]);
      expect(events.map((e) => ((JSON.parse(e['data']!) as Json)['kv'] as Json)['key'])).to.deep.equal([b64('/sse/a'), b64('/sse/b'), b64('/sse/c')]);
      stream.close();
    });

    it('resumes after Last-Event-ID, takes base64 keys, and ends a compacted start with an error event', async () => {
      const first = await putRevision(gw, '/resume/a', '1');
      await putRevision(gw, '/resume/b', '2');
      const resumed = gw.open('GET', `/v3/watch?key=${encodeURIComponent(b64('/resume/'))}&encoding=base64&prefix=true`, undefined, {
        ...sse,
        'Last-Event-ID': String(first),
      });
      await resumed.until((t) => sseEvents(t).length === 1);
      expect(((JSON.parse(sseEvents(resumed.text())[0]!['data']!) as Json)['kv'] as Json)['key']).to.equal(b64('/resume/b'));
      resumed.close();

      await gw.post('/v3/kv/compaction', { revision: String(first + 1) });
      const compacted = gw.open('GET', `/v3/watch?key=/resume/a&start_revision=${first}`, undefined, sse);
      await compacted.ended;
      const [error] = sseEvents(compacted.text());
      expect(error!['event']).to.equal('error');
      expect(JSON.parse(error!['data']!)).to.deep.equal({
        error: 'etcdserver: mvcc: required revision has been compacted',
        message: 'etcdserver: mvcc: required revision has been compacted',
        code: 11,
        compact_revision: String(first + 1),
      });
    });

    it('refuses bad parameters with an HTTP error (so an EventSource does not retry them)', async () => {
      for (const [query, error] of [
        ['key=a&bogus=1', 'unknown query parameter "bogus"'],
        ['key=!!&encoding=base64', 'key: illegal base64 data at input byte 0'],
        ['key=a&start_revision=soon', 'start_revision must be a revision (a whole number), not "soon"'],
      ] as const) {
        const answer = await gw.request('GET', `/v3/watch?${query}`, undefined, sse);
        expect([answer.status, (JSON.parse(answer.text) as Json)['error']]).to.deep.equal([400, error]);
      }
      expect((await gw.request('GET', '/v3/watch')).status).to.equal(405);
    });

    it('sends keep-alive comments while nothing happens', async () => {
      const server = createServer((_request, response) => {
        new SseWatchStream(response, gw.services.watch!.openStream(), new WatchResponseJson(new EtcdProtoSchemas()), 30).start({ key: Buffer.from('quiet') });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
        const reader = response.body!.getReader();
        let text = '';
        while ((text.match(/: keep-alive/g) ?? []).length < 2) text += new TextDecoder().decode((await reader.read()).value);
        await reader.cancel();
      } finally {
        server.closeAllConnections();
        server.close();
      }
    });
  });
});
