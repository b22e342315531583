import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Compare, Op, isRetryable, type WatchEvent } from '@cairn/client';
import { ETCD_BIN } from '../compat/processes.js';
import { ProcessCluster } from '../e2e/cluster-processes.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes `key` once: a txn that puts only if the key does not exist, so retrying it after an unknown outcome is safe. */
async function writeOnce(client: Client, key: string, value: string): Promise<void> {
  for (;;) {
    try {
      await client
        .txn()
        .if(Compare.version(key, '=', 0n))
        .then(Op.put(key, value))
        .commit({ timeoutMs: 3000 });
      return;
    } catch (err) {
      if (!isRetryable(err) && (err as Error).name !== 'DeadlineExceededError') throw err;
      await sleep(50);
    }
  }
}

// The same watcher over a real etcd 3.4 cluster (client-faults.test.ts does it on Cairn): the
// resumption is the client's, and must hold against etcd's own watch and compaction answers.
describe('@cairn/client: a prefix watch while real etcd members are killed -9 and restarted under writes', function () {
  this.timeout(180_000);
  let dir: string | undefined;
  let cluster: ProcessCluster | undefined;

  before(async function () {
    if (!ProcessCluster.etcdInstalled()) {
      console.log(`      skipped: ${ETCD_BIN} is missing (apt-get install etcd-server)`);
      this.skip();
    }
    dir = await mkdtemp(join(tmpdir(), 'cairn-client-etcd-watch-'));
    cluster = await ProcessCluster.start('etcd', dir, 3);
    await cluster.leader();
  });
  after(async () => {
    await cluster?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('delivers the exact key history: no gap, no duplicate, in revision order', async () => {
    const endpoints = cluster!.members.map((m) => m.endpoint);
    const watcher = new Client({ endpoints, dialTimeoutMs: 1000, keepAliveMs: 1000 });
    const writer = new Client({ endpoints: [...endpoints].reverse(), dialTimeoutMs: 1000 });
    try {
      const watch = watcher.watch('fault/', { prefix: true });
      await watch.ready;
      const events: WatchEvent[] = [];
      const reading = (async () => {
        for await (const event of watch) events.push(event);
      })();
      let writing = true;
      let written = 0;
      const writes = (async () => {
        while (writing) await writeOnce(writer, `fault/${String(written).padStart(5, '0')}`, String(written++));
      })();
      for (let round = 0; round < 2; round++) {
        for (const member of cluster!.members) {
          await sleep(700);
          await member.kill();
          await sleep(700);
          await member.start();
        }
      }
      await sleep(500);
      writing = false;
      await writes;
      const history = await writer.range('fault/', { prefix: true, timeoutMs: 10_000 });
      const expected = history.kvs.map((kv) => `${kv.key.toString()}@${kv.modRevision}`);
      const last = history.kvs.reduce((max, kv) => (kv.modRevision > max ? kv.modRevision : max), 0n);
      const deadline = Date.now() + 20_000;
      while ((events.length === 0 || events[events.length - 1]!.revision < last) && Date.now() < deadline) await sleep(50);
      await sleep(300);
      watch.close();
      await reading;
      assert.ok(written > 20, `only ${written} writes went through`);
      assert.equal(history.kvs.length, written);
      const seen = events.map((e) => `${e.kv.key.toString()}@${e.revision}`);
      assert.deepEqual(
        seen,
        expected.sort((a, b) => Number(BigInt(a.split('@')[1]!) - BigInt(b.split('@')[1]!))),
      );
    } finally {
      await watcher.close();
      await writer.close();
    }
  });
});
