import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cairnBesideEtcdFixture } from './cairn-fixture.js';
import { curl, type CurlAnswer } from './curl.js';
import { CurlStream, jsonLines } from './curl-stream.js';

const b64 = (text: string): string => Buffer.from(text).toString('base64');

/**
 * A JSON answer with its values replaced by their JSON types: what must match etcd's field for
 * field (names, nesting, which defaults are left out, int64 as strings), whatever the IDs and
 * revisions of either server.
 */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, shape(v)]));
  }
  return typeof value;
}

/** The same requests, in order, against both servers; `exact` compares the whole body (errors), not just its shape. */
const SESSION: { path: string; body: string; exact?: boolean }[] = [
  { path: '/v3/kv/put', body: JSON.stringify({ key: b64('foo'), value: b64('bar') }) },
  { path: '/v3/kv/put', body: JSON.stringify({ key: b64('foo'), value: b64('baz'), prev_kv: true }) },
  { path: '/v3/kv/put', body: JSON.stringify({ key: b64('foo2'), value: b64('qux') }) },
  { path: '/v3/kv/range', body: JSON.stringify({ key: b64('foo') }) },
  { path: '/v3/kv/range', body: JSON.stringify({ key: b64('foo'), range_end: b64('fop'), sort_order: 'DESCEND', keys_only: true }) },
  { path: '/v3/kv/range', body: JSON.stringify({ key: b64('foo'), rangeEnd: b64('fop'), countOnly: true }) },
  { path: '/v3/kv/range', body: JSON.stringify({ key: b64('nothing') }) },
  {
    path: '/v3/kv/txn',
    body: JSON.stringify({
      compare: [{ target: 'VALUE', key: b64('foo'), value: b64('baz') }],
      success: [{ request_put: { key: b64('foo'), value: b64('t') } }, { request_range: { key: b64('foo') } }],
    }),
  },
  {
    path: '/v3/kv/txn',
    body: JSON.stringify({ compare: [{ target: 'VERSION', key: b64('foo'), version: '99' }], failure: [{ request_delete_range: { key: b64('x') } }] }),
  },
  { path: '/v3/kv/deleterange', body: JSON.stringify({ key: b64('foo2'), prev_kv: true }) },
  { path: '/v3/lease/grant', body: JSON.stringify({ TTL: 60, ID: 1000 }) },
  { path: '/v3/kv/lease/timetolive', body: JSON.stringify({ ID: 1000, keys: true }) },
  { path: '/v3/lease/leases', body: '{}' },
  { path: '/v3/lease/revoke', body: JSON.stringify({ ID: '1000' }) },
  { path: '/v3/lease/revoke', body: JSON.stringify({ ID: '1000' }), exact: true },
  { path: '/v3/maintenance/status', body: '{}' },
  { path: '/v3/maintenance/hash', body: '{}' },
  { path: '/v3beta/kv/range', body: JSON.stringify({ key: b64('foo') }) },
  { path: '/v3/kv/range', body: '{"key":"Zm9v"', exact: true },
  { path: '/v3/kv/range', body: '{"key":"Zm9v!!"}', exact: true },
  { path: '/v3/kv/range', body: '{"key":5}', exact: true },
  { path: '/v3/kv/range', body: '{"key":"Zm9v","limit":1.5}', exact: true },
  { path: '/v3/kv/range', body: '{"key":"Zm9v","sort_order":"NOPE"}', exact: true },
  { path: '/v3/kv/range', body: '{"key":"Zm9v","revision":"99999"}', exact: true },
  { path: '/v3/kv/put', body: '{}', exact: true },
  { path: '/v3/kv/put', body: JSON.stringify({ key: b64('big'), value: Buffer.alloc(1600 * 1024).toString('base64') }), exact: true },
  { path: '/v3/kv/put', body: JSON.stringify({ key: b64('big'), value: Buffer.alloc(3000 * 1024).toString('base64') }), exact: true },
];

/** What a curl of `path` answered: the status, the content type, and the body (or its shape). The body is sent from a file (some are megabytes). */
async function answer(endpoint: string, path: string, bodyFile: string, exact: boolean): Promise<unknown> {
  const got: CurlAnswer = await curl(`http://${endpoint}${path}`, ['-X', 'POST', '-H', 'Expect:', '--data-binary', `@${bodyFile}`]);
  return { status: got.status, contentType: got.headers['content-type'], body: exact ? got.body : shape(JSON.parse(got.body)) };
}

describe('the JSON gateway beside a real etcd 3.4, the same curl requests', function () {
  this.timeout(120_000);
  const servers = cairnBesideEtcdFixture('gateway-shape');

  it('answers with the same fields, types, statuses and error texts', async function () {
    const etcd = servers.etcd;
    if (etcd === undefined) this.skip();
    const bodyFile = join(servers.dir, 'body.json');
    for (const request of SESSION) {
      await writeFile(bodyFile, request.body);
      const cairnAnswer = await answer(servers.cairn.endpoint, request.path, bodyFile, request.exact === true);
      const etcdAnswer = await answer(etcd.endpoint, request.path, bodyFile, request.exact === true);
      expect(cairnAnswer, `${request.path} ${request.body.slice(0, 120)}`).to.deep.equal(etcdAnswer);
    }
  });

  it('streams a watch in the same shape', async function () {
    const etcd = servers.etcd;
    if (etcd === undefined) this.skip();
    const lines: unknown[][] = [];
    for (const endpoint of [servers.cairn.endpoint, etcd.endpoint]) {
      const create = JSON.stringify({ create_request: { key: b64('w'), prev_kv: true } });
      const watch = CurlStream.start([`http://${endpoint}/v3/watch`, '-X', 'POST', '-d', create]);
      try {
        await watch.until((out) => jsonLines(out).length === 1);
        await curl(`http://${endpoint}/v3/kv/put`, ['-X', 'POST', '-d', JSON.stringify({ key: b64('w'), value: b64('1') })]);
        await curl(`http://${endpoint}/v3/kv/deleterange`, ['-X', 'POST', '-d', JSON.stringify({ key: b64('w') })]);
        await watch.until((out) => jsonLines(out).length === 3);
        lines.push(jsonLines(watch.stdout).map(shape));
      } finally {
        await watch.stop();
      }
    }
    expect(lines[0]).to.deep.equal(lines[1]);
  });
});
