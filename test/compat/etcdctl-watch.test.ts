import { expect } from 'chai';
import { join } from 'node:path';
import { etcdctl, normalize } from './etcdctl.js';
import { EtcdctlProcess } from './etcdctl-process.js';
import { startCairn } from './processes.js';
import { cairnBesideEtcdFixture } from './cairn-fixture.js';
import { RawWatchStream } from '../e2e/watch-client.js';

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What etcdctl printed for each watch of the session (member IDs and terms blanked). */
type Outputs = Record<string, string>;

/** One run of `etcdctl watch` until it printed `until` (or exited), then stopped by PID. */
async function watchUntil(endpoint: string, args: string[], until: string, during?: () => Promise<void>): Promise<string> {
  const w = EtcdctlProcess.start(endpoint, ['watch', ...args]);
  try {
    if (during !== undefined) {
      // A watch from "now" must exist before the writes it should see; etcdctl prints nothing on create.
      await pause(700);
      await during();
    }
    await w.waitFor(until, 10_000, true);
    return normalize(w.stdout);
  } finally {
    await w.stop();
  }
}

/** The same etcdctl session against one server; revisions are the same on a fresh etcd and a fresh Cairn. */
async function session(endpoint: string): Promise<Outputs> {
  const run = async (...args: string[]): Promise<void> => {
    const r = await etcdctl(endpoint, args);
    if (r.code !== 0) throw new Error(`etcdctl ${args.join(' ')}: ${r.stderr}`);
  };
  await run('put', 'foo', '1'); // 2
  await run('put', 'foo', '2'); // 3
  await run('put', 'bar', 'x'); // 4
  await run('put', 'foo/a', 'y'); // 5
  await run('del', 'foo'); // 6
  const out: Outputs = {};
  out.key = await watchUntil(endpoint, ['foo', '--rev', '2'], 'DELETE\nfoo\n');
  out.prefixPrevKv = await watchUntil(endpoint, ['--prefix', 'foo', '--rev', '2', '--prev-kv'], 'DELETE\nfoo\n');
  out.range = await watchUntil(endpoint, ['bar', 'foo0', '--rev', '1'], 'foo/a\ny\n');
  out.json = await watchUntil(endpoint, ['foo', '--rev', '3', '-w', 'json'], '"type":1');
  out.live = await watchUntil(endpoint, ['--prefix', 'foo/'], 'foo/c\n', async () => {
    await run('put', 'foo/b', 'z'); // 7
    await run('put', 'other', 'q'); // 8
    await run('put', 'foo/c', 'w'); // 9
  });

  const interactive = EtcdctlProcess.start(endpoint, ['watch', '-i']);
  try {
    interactive.send('watch foo --rev 2');
    await interactive.waitFor('DELETE\nfoo\n');
    interactive.send('progress');
    await interactive.waitFor('progress notify: ');
    interactive.send('watch --prefix bar');
    await pause(700);
    await run('put', 'bar', 'live'); // 10
    await interactive.waitFor('bar\nlive\n');
    out.interactive = normalize(interactive.stdout);
  } finally {
    await interactive.stop();
  }

  await run('compaction', '5');
  const compacted = EtcdctlProcess.start(endpoint, ['watch', 'foo', '--rev', '2']);
  const code = await compacted.exit();
  out.compacted = `exit ${code}\n${compacted.stdout}${compacted.stderr}`;
  return out;
}

describe('etcdctl 3.4 watch against a cairn process', function () {
  this.timeout(120_000);
  const servers = cairnBesideEtcdFixture('watch-compat');

  it('key, --prefix, a range, --rev, --prev-kv, -w json, -i with watch and progress, and a compacted start print what etcd prints', async () => {
    const mine = await session(servers.cairn.endpoint);
    if (servers.etcd !== undefined) {
      const theirs = await session(servers.etcd.endpoint);
      for (const name of Object.keys(theirs)) expect(mine[name], `watch ${name}`).to.equal(theirs[name]);
    }
    // Checked without etcd too: what etcdctl documents for these watches.
    expect(mine.key).to.equal('PUT\nfoo\n1\nPUT\nfoo\n2\nDELETE\nfoo\n\n');
    expect(mine.prefixPrevKv).to.equal('PUT\nfoo\n1\nPUT\nfoo\n1\nfoo\n2\nPUT\nfoo/a\ny\nDELETE\nfoo\n2\nfoo\n\n');
    expect(mine.range!.startsWith('PUT\nfoo\n1\nPUT\nfoo\n2\nPUT\nbar\nx\nPUT\nfoo/a\ny\n'), mine.range).to.equal(true);
    expect(mine.live).to.equal('PUT\nfoo/b\nz\nPUT\nfoo/c\nw\n');
    expect(mine.interactive).to.contain('progress notify: 9\n');
    expect(mine.interactive).to.contain('PUT\nbar\nlive\n');
    expect(mine.compacted).to.contain('watch was canceled (etcdserver: mvcc: required revision has been compacted)');
    const json = JSON.parse(mine.json!.split('\n')[0]!) as { Header: { revision: number }; Events: { kv: { mod_revision: number } }[] };
    expect(json.Events.map((e) => e.kv.mod_revision)).to.deep.equal([3, 6]);
  });

  it('progress_notify (which etcdctl 3.4 cannot ask for) answers an idle watch with its watch_id, the current revision and no events', async () => {
    // etcd's interval is 10 minutes; the member under test is told 200 ms.
    process.env['CAIRN_WATCH_PROGRESS_NOTIFY_INTERVAL_MS'] = '200';
    const member = await startCairn(join(servers.dir, 'progress.data'));
    delete process.env['CAIRN_WATCH_PROGRESS_NOTIFY_INTERVAL_MS'];
    const watch = new RawWatchStream(member.endpoint);
    try {
      await etcdctl(member.endpoint, ['put', 'elsewhere', '1']);
      watch.create({ key: Buffer.from('quiet'), progress_notify: true, watch_id: '5' });
      const created = await watch.next();
      expect([created.created, created.watch_id]).to.deep.equal([true, '5']);
      await etcdctl(member.endpoint, ['put', 'elsewhere', '2']);
      // A notification may fall between the create and the put (the interval is 200 ms and
      // starting etcdctl can take longer on a loaded machine): it carries revision 2. Every one
      // is an empty response for this watch; within a few intervals one carries revision 3.
      for (let seen = 0; ; seen++) {
        const progress = await watch.next(5000);
        expect(progress).to.include({ watch_id: '5', created: false, canceled: false });
        expect(progress.events).to.deep.equal([]);
        if (progress.header.revision === '3') break;
        expect(progress.header.revision, 'a notification before the second put').to.equal('2');
        expect(seen, 'notifications still at revision 2').to.be.below(10);
      }
    } finally {
      watch.close();
      await member.stop();
    }
  });
});
