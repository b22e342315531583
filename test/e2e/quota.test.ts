import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdctl } from '../compat/etcdctl.js';
import { startCairn, type ServerProcess, skipWithoutEtcdctl } from '../compat/processes.js';
import { RawEtcdClient } from '../compat/raw-kv-client.js';

const RESOURCE_EXHAUSTED = 8;
const NO_SPACE = 'etcdserver: mvcc: database space exceeded';
const QUOTA_BYTES = 1 << 20;
const VALUE = Buffer.alloc(1024, 7);

/** Each storage the quota must work on; memory is the reference. */
const STORAGE = ['memory', '@cairn/storage-lmdb', '@cairn/storage-leveldb'] as const;

for (const storage of STORAGE)
  describe(`--quota-backend-bytes on ${storage}`, function () {
    this.timeout(120_000);
    let dir: string;
    let cairn: ServerProcess | undefined;
    let client: RawEtcdClient;

    before(async function () {
      skipWithoutEtcdctl(this);
      dir = await mkdtemp(join(tmpdir(), 'cairn-quota-'));
      const config = join(dir, 'cairn.yaml');
      await writeFile(config, `plugins:\n  storage: { use: "${storage}" }\n`);
      cairn = await startCairn(join(dir, 'data'), ['--config-file', config, '--quota-backend-bytes', String(QUOTA_BYTES), '--log-level', 'warn']);
      client = new RawEtcdClient(cairn.endpoint);
    });
    after(async () => {
      client?.close();
      await cairn?.stop();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    });

    it('raises NOSPACE past the quota, refuses writes, serves reads, and disarms after compact + defrag', async () => {
      // Fill until refused; several times the quota in writes is a bound the engine must reach.
      let written = 0;
      let refused: { code: number; details: string } | undefined;
      for (; written < (4 * QUOTA_BYTES) / VALUE.length && refused === undefined; written++) {
        refused = await client.failure('kv', 'Put', { key: Buffer.from(`fill/${String(written).padStart(6, '0')}`), value: VALUE });
      }
      expect(refused, `a put was refused within ${written} puts of 1 KiB`).to.deep.equal({ code: RESOURCE_EXHAUSTED, details: NO_SPACE });

      const alarms = await etcdctl(cairn!.endpoint, ['alarm', 'list']);
      expect(alarms.stdout).to.match(/^memberID:\d+ alarm:NOSPACE *\n$/);
      const status = await etcdctl(cairn!.endpoint, ['endpoint', 'status', '-w', 'json']);
      expect(status.stdout).to.contain('"errors":["memberID:');

      // Capped: every write that could grow the store is refused, reads are served.
      expect(await client.failure('kv', 'Put', { key: Buffer.from('small'), value: Buffer.from('x') })).to.deep.equal({
        code: RESOURCE_EXHAUSTED,
        details: NO_SPACE,
      });
      expect(await client.failure('kv', 'Txn', { success: [{ request_put: { key: Buffer.from('small'), value: Buffer.from('x') } }] })).to.deep.equal({
        code: RESOURCE_EXHAUSTED,
        details: NO_SPACE,
      });
      const read = await client.call('kv', 'Range', { key: Buffer.from('fill/'), range_end: Buffer.from('fill0'), count_only: true });
      expect(Number(read['count'])).to.equal(written - 1);

      // The operator's way out, as with etcd: delete, compact, defrag, disarm.
      const deleted = await client.call('kv', 'DeleteRange', { key: Buffer.from('fill/'), range_end: Buffer.from('fill0') });
      expect(Number(deleted['deleted'])).to.equal(written - 1);
      const revision = (deleted['header'] as { revision: string }).revision;
      expect((await etcdctl(cairn!.endpoint, ['compaction', '--physical', revision])).code).to.equal(0);
      expect((await etcdctl(cairn!.endpoint, ['defrag'])).code).to.equal(0);
      const listed = await etcdctl(cairn!.endpoint, ['alarm', 'list']);
      const disarm = await etcdctl(cairn!.endpoint, ['alarm', 'disarm']);
      expect(disarm.stdout, `alarm disarm (exit ${disarm.code}): ${disarm.stderr}; alarm list just before: ${JSON.stringify(listed.stdout)}`).to.match(
        /^memberID:\d+ alarm:NOSPACE *\n$/,
      );
      expect((await etcdctl(cairn!.endpoint, ['alarm', 'list'])).stdout).to.equal('');
      await client.call('kv', 'Put', { key: Buffer.from('after'), value: VALUE });
      const after = await client.call('kv', 'Range', { key: Buffer.from('after') });
      expect((after['kvs'] as unknown[]).length).to.equal(1);
    });
  });
