import { expect } from 'chai';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { RawEtcdClient } from '../compat/raw-kv-client.js';
import { CAIRN_BIN, freeMemberPorts, ServerProcess } from '../compat/processes.js';
import { RawWatchStream } from './watch-client.js';
import { loopbackUrlFlags } from '@cairn/core/testkit';

const EVENTS = 100_000;
const PUTS_PER_TXN = 10;
const VALUE_BYTES = 1024;
const WRITERS = 32;
/** The member's V8 heap limit: far below the ~100 MiB of values a member that buffered them all would hold. */
const HEAP_LIMIT_MB = 128;

/** The member's anonymous resident memory (heap, buffers; not the mapped LMDB file), from /proc. */
async function rssAnonMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/RssAnon:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** A member with a capped V8 heap on fresh loopback ports and its own data dir. */
async function startMember(dataDir: string): Promise<ServerProcess> {
  const { client, peer } = await freeMemberPorts();
  return ServerProcess.start(
    'cairn',
    process.execPath,
    [
      `--max-old-space-size=${HEAP_LIMIT_MB}`,
      CAIRN_BIN,
      '--data-dir',
      dataDir,
      ...loopbackUrlFlags(client, peer),
      '--heartbeat-interval',
      '10',
      '--election-timeout',
      '100',
    ],
    client,
    dirname(dataDir),
  );
}

/** Writes EVENTS events (PUTS_PER_TXN per txn) under slow/ and returns the member's peak RssAnon meanwhile, in MiB. */
async function writeEvents(member: ServerProcess, kv: RawEtcdClient): Promise<{ baseline: number; peak: number; seconds: number }> {
  const baseline = await rssAnonMiB(member.pid);
  let peak = baseline;
  const sampler = setInterval(() => {
    void rssAnonMiB(member.pid).then(
      (m) => {
        peak = Math.max(peak, m);
      },
      () => undefined,
    );
  }, 100);
  const value = Buffer.alloc(VALUE_BYTES, 'v');
  const txns = EVENTS / PUTS_PER_TXN;
  let next = 0;
  const began = Date.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (next < txns) {
        const t = next++;
        const success = Array.from({ length: PUTS_PER_TXN }, (_, k) => ({
          request_put: { key: Buffer.from(`slow/${k}`), value: Buffer.concat([Buffer.from(`${t}:${k}:`), value]) },
        }));
        await kv.call('kv', 'Txn', { compare: [], success, failure: [] });
      }
    }),
  );
  clearInterval(sampler);
  peak = Math.max(peak, await rssAnonMiB(member.pid));
  return { baseline, peak, seconds: (Date.now() - began) / 1000 };
}

describe('a watcher that reads nothing', function () {
  this.timeout(180_000);
  let dir: string;
  let member: ServerProcess | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-slow-watcher-'));
  });
  after(async () => {
    await member?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it(`keeps the member's memory bounded while ${EVENTS} events are written, then receives every one in order`, async () => {
    // The same load on a member with no watcher: what the write path alone costs in memory.
    member = await startMember(join(dir, 'control'));
    const controlKv = new RawEtcdClient(member.endpoint);
    const control = await writeEvents(member, controlKv);
    controlKv.close();
    await member.stop();

    member = await startMember(join(dir, 'data'));
    const kv = new RawEtcdClient(member.endpoint);
    const watch = new RawWatchStream(member.endpoint);
    try {
      watch.create({ key: Buffer.from('slow/'), range_end: Buffer.from('slow0') });
      const created = await watch.next();
      expect(created.created).to.equal(true);
      const startRevision = Number(created.header.revision);
      watch.pause();
      const txns = EVENTS / PUTS_PER_TXN;
      const stuck = await writeEvents(member, kv);
      console.log(
        `      ${EVENTS} events (${txns} txns of ${PUTS_PER_TXN} puts, ${((EVENTS * VALUE_BYTES) / 2 ** 20).toFixed(0)} MiB of values) written in ${stuck.seconds.toFixed(1)} s; member peak RssAnon ${stuck.peak.toFixed(0)} MiB with the watcher reading nothing (from ${stuck.baseline.toFixed(0)}), ${control.peak.toFixed(0)} MiB with no watcher at all (from ${control.baseline.toFixed(0)})`,
      );
      // A member that held every undelivered event would be ~100 MiB of values (and their objects) above the control.
      expect(stuck.peak - control.peak).to.be.below(50);

      watch.resume();
      const seen = new Set<string>();
      let lastRevision = startRevision;
      let lastInRevision = -1;
      let count = 0;
      const readBegan = Date.now();
      while (count < EVENTS) {
        const r = await watch.next();
        expect(r.canceled, `canceled: ${r.cancel_reason}`).to.equal(false);
        for (const e of r.events) {
          const rev = Number(e.kv.mod_revision);
          const [t, k] = e.kv.value.subarray(0, 24).toString().split(':');
          // Revision order, and within one revision (one txn) the txn's own order.
          if (rev === lastRevision) expect(Number(k)).to.equal(lastInRevision + 1);
          else {
            expect(rev).to.be.greaterThan(lastRevision);
            expect(Number(k)).to.equal(0);
          }
          lastRevision = rev;
          lastInRevision = Number(k);
          const id = `${t}:${k}`;
          expect(seen.has(id), `event ${id} delivered twice`).to.equal(false);
          seen.add(id);
          count++;
        }
      }
      console.log(`      all ${count} events read back in ${((Date.now() - readBegan) / 1000).toFixed(1)} s, in revision order, none twice`);
      expect(seen.size).to.equal(EVENTS);
      expect(lastRevision).to.equal(startRevision + txns);
      // Caught up: live events flow again.
      await kv.call('kv', 'Put', { key: Buffer.from('slow/after'), value: Buffer.from('x') });
      const live = await watch.next();
      expect(live.events.map((e) => e.kv.key.toString())).to.deep.equal(['slow/after']);
    } finally {
      watch.close();
      kv.close();
    }
  });
});
