import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCairn, startEtcd, type ServerProcess } from './processes.js';
import { RawEtcdClient } from './raw-kv-client.js';

const key = (s: string): Buffer => Buffer.from(s);
const put = (k: string, v = 'v'): object => ({ request_put: { key: key(k), value: key(v) } });

/** Status codes of gRPC (numbers, as on the wire). */
const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;
const OUT_OF_RANGE = 11;

// The same cases run against a real etcd 3.4 when it is installed, to show the expectations are etcd's.
for (const target of ['cairn', 'etcd'] as const)
  describe(`bad input to a ${target} process: etcd's error, and nothing changes`, function () {
    this.timeout(60_000);
    let dir: string;
    let cairn: ServerProcess | undefined;
    let client: RawEtcdClient;

    before(async function () {
      dir = await mkdtemp(join(tmpdir(), 'cairn-bad-input-'));
      cairn = target === 'cairn' ? await startCairn(join(dir, 'data')) : await startEtcd(join(dir, 'data'));
      if (cairn === undefined) {
        console.log('      skipped: /usr/bin/etcd is missing (apt-get install etcd-server), so the cases are not checked against etcd');
        this.skip();
      }
      client = new RawEtcdClient(cairn.endpoint);
      for (let i = 0; i < 5; i++) await client.call('kv', 'Put', { key: key(`k${i}`), value: key(`v${i}`) });
      await client.call('kv', 'Compact', { revision: 3 });
    });
    after(async () => {
      client?.close();
      await cairn?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    /** The member's revision and hash, which a refused request must leave as they were. */
    async function state(): Promise<string> {
      const hash = await client.call('maintenance', 'HashKV', { revision: 0 });
      const all = await client.call('kv', 'Range', { key: Buffer.from([0]), range_end: Buffer.from([0]) });
      return JSON.stringify({ hash: hash['hash'], revision: (hash['header'] as { revision: string }).revision, count: all['count'] });
    }

    const cases: { name: string; method: string; request: () => object; code: number; message: string }[] = [
      {
        name: 'an empty key in put',
        method: 'Put',
        request: () => ({ key: Buffer.alloc(0), value: key('x') }),
        code: INVALID_ARGUMENT,
        message: 'etcdserver: key is not provided',
      },
      {
        name: 'an empty key in range',
        method: 'Range',
        request: () => ({ key: Buffer.alloc(0) }),
        code: INVALID_ARGUMENT,
        message: 'etcdserver: key is not provided',
      },
      {
        name: 'an empty key in delete',
        method: 'DeleteRange',
        request: () => ({ key: Buffer.alloc(0) }),
        code: INVALID_ARGUMENT,
        message: 'etcdserver: key is not provided',
      },
      {
        name: 'a request over --max-request-bytes',
        method: 'Put',
        request: () => ({ key: key('big'), value: Buffer.alloc(1_700_000, 1) }),
        code: INVALID_ARGUMENT,
        message: 'etcdserver: request is too large',
      },
      {
        name: 'more than --max-txn-ops operations',
        method: 'Txn',
        request: () => ({ success: Array.from({ length: 129 }, (_, i) => put(`t${i}`)) }),
        code: INVALID_ARGUMENT,
        message: 'etcdserver: too many operations in txn request',
      },
      {
        name: 'a key put twice in one txn',
        method: 'Txn',
        request: () => ({ success: [put('dup'), put('dup')] }),
        code: INVALID_ARGUMENT,
        message: 'etcdserver: duplicate key given in txn request',
      },
      {
        name: 'a put inside a range deleted by the same txn',
        method: 'Txn',
        request: () => ({ success: [{ request_delete_range: { key: key('a'), range_end: key('z') } }, put('k')] }),
        code: INVALID_ARGUMENT,
        message: 'etcdserver: duplicate key given in txn request',
      },
      {
        name: 'a read at a compacted revision',
        method: 'Range',
        request: () => ({ key: key('k1'), revision: 2 }),
        code: OUT_OF_RANGE,
        message: 'etcdserver: mvcc: required revision has been compacted',
      },
      {
        name: 'a read at a future revision',
        method: 'Range',
        request: () => ({ key: key('k1'), revision: 1000 }),
        code: OUT_OF_RANGE,
        message: 'etcdserver: mvcc: required revision is a future revision',
      },
      {
        name: 'a compaction at a compacted revision',
        method: 'Compact',
        request: () => ({ revision: 2 }),
        code: OUT_OF_RANGE,
        message: 'etcdserver: mvcc: required revision has been compacted',
      },
      {
        name: 'a compaction at a future revision',
        method: 'Compact',
        request: () => ({ revision: 1000 }),
        code: OUT_OF_RANGE,
        message: 'etcdserver: mvcc: required revision is a future revision',
      },
      {
        name: 'a put with a lease that does not exist',
        method: 'Put',
        request: () => ({ key: key('leased'), value: key('x'), lease: '7587' }),
        code: NOT_FOUND,
        message: 'etcdserver: requested lease not found',
      },
      {
        name: 'a txn put with a lease that does not exist',
        method: 'Txn',
        request: () => ({ success: [{ request_put: { key: key('leased'), value: key('x'), lease: '7587' } }, put('other')] }),
        code: NOT_FOUND,
        message: 'etcdserver: requested lease not found',
      },
      {
        name: 'ignore_value on a missing key',
        method: 'Put',
        request: () => ({ key: key('missing'), ignore_value: true }),
        code: INVALID_ARGUMENT,
        message: 'etcdserver: key not found',
      },
      {
        name: 'ignore_value with a value',
        method: 'Put',
        request: () => ({ key: key('k1'), value: key('x'), ignore_value: true }),
        code: INVALID_ARGUMENT,
        message: 'etcdserver: value is provided',
      },
    ];

    for (const c of cases) {
      it(`${c.name}: "${c.message}"`, async () => {
        const before = await state();
        const failure = await client.failure('kv', c.method, c.request());
        expect(failure).to.deep.equal({ code: c.code, details: c.message });
        expect(await state(), 'revision, hash and key count are unchanged').to.equal(before);
        // Still healthy: a write and a linearizable read go through.
        await client.call('kv', 'Put', { key: key('health'), value: key(c.name) });
        const read = await client.call('kv', 'Range', { key: key('health') });
        expect(Buffer.from((read['kvs'] as { value: Buffer }[])[0]!.value).toString()).to.equal(c.name);
      });
    }
  });
