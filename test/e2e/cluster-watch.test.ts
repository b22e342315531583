import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawEtcdClient } from '../compat/raw-kv-client.js';
import { skipWithoutEtcdctl } from '../compat/processes.js';
import { ProcessCluster, type MemberProcess } from './cluster-processes.js';
import { RawWatchStream, type RawWatchResponse } from './watch-client.js';

/** Reads a watch's events into `into` (value of each event, as written) until `done()` or the stream fails. */
async function drain(watch: RawWatchStream, into: { value: number; revision: number }[], done: () => boolean): Promise<void> {
  while (!done()) {
    let r: RawWatchResponse;
    try {
      r = await watch.next(30_000);
    } catch {
      return;
    }
    if (r.canceled) throw new Error(`watch canceled: ${r.cancel_reason} (compact revision ${r.compact_revision})`);
    for (const e of r.events) into.push({ value: Number(e.kv.value.toString()), revision: Number(e.kv.mod_revision) });
  }
}

/** Every write 0..n-1 exactly once, in revision order. */
function expectEveryWriteInOrder(events: readonly { value: number; revision: number }[], n: number): void {
  const values = events.map((e) => e.value).sort((a, b) => a - b);
  expect(values.length, 'events received').to.equal(n);
  expect(
    values.every((v, i) => v === i),
    'each write exactly once',
  ).to.equal(true);
  for (let i = 1; i < events.length; i++) expect(events[i]!.revision, `revision order at ${i}`).to.be.greaterThan(events[i - 1]!.revision);
}

describe('watches on a 3-member cluster of cairn processes', function () {
  this.timeout(180_000);
  let dir: string;
  let cluster: ProcessCluster | undefined;
  const closers: (() => void)[] = [];

  before(async function () {
    skipWithoutEtcdctl(this);
    dir = await mkdtemp(join(tmpdir(), 'cairn-cluster-watch-'));
    cluster = await ProcessCluster.start('cairn', dir, 3, { extraArgs: ['--snapshot-count', '200', '--snapshot-catchup-entries', '500'] });
  });
  after(async () => {
    for (const close of closers) close();
    await cluster?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const followers = async (): Promise<[MemberProcess, MemberProcess[]]> => {
    const leader = await cluster!.leader();
    return [leader, cluster!.members.filter((m) => m !== leader && m.running)];
  };

  it('a watch on a follower, re-created on another member from its last seen revision + 1 after its member was killed, misses no event', async () => {
    const [leader, [watched, other]] = await followers();
    const writer = new RawEtcdClient(leader.endpoint);
    closers.push(() => writer.close());
    const first = new RawWatchStream(watched!.endpoint);
    closers.push(() => first.close());
    first.create({ key: Buffer.from('w/'), range_end: Buffer.from('w0') });
    expect((await first.next()).created).to.equal(true);

    const total = 1200;
    let written = 0;
    const writes = (async () => {
      for (; written < total; written++) await writer.call('kv', 'Put', { key: Buffer.from(`w/${written % 17}`), value: Buffer.from(String(written)) });
    })();
    const events: { value: number; revision: number }[] = [];
    // Read on the follower until about a third is written, then kill it mid-stream.
    await drain(first, events, () => events.length >= 400);
    await watched!.kill();
    const lastSeen = events[events.length - 1]!.revision;
    const killedAt = events.length;

    const second = new RawWatchStream(other!.endpoint);
    closers.push(() => second.close());
    second.create({ key: Buffer.from('w/'), range_end: Buffer.from('w0'), start_revision: String(lastSeen + 1) });
    expect((await second.next()).created).to.equal(true);
    await drain(second, events, () => events.length >= total);
    await writes;
    console.log(
      `      ${killedAt} events from ${watched!.spec.name} before kill -9, ${events.length - killedAt} from ${other!.spec.name} after re-creating the watch at revision ${lastSeen + 1}`,
    );
    expectEveryWriteInOrder(events, total);
    await watched!.start();
  });

  it('a watch open on a member paused while the leader compacts its log gets every write once the member catches up by snapshot', async () => {
    const [leader, [paused]] = await followers();
    const writer = new RawEtcdClient(leader.endpoint);
    closers.push(() => writer.close());
    const watch = new RawWatchStream(paused!.endpoint);
    closers.push(() => watch.close());
    watch.create({ key: Buffer.from('s/'), range_end: Buffer.from('s0') });
    expect((await watch.next()).created).to.equal(true);
    const events: { value: number; revision: number }[] = [];
    const total = 4000;
    await writer.call('kv', 'Put', { key: Buffer.from('s/0'), value: Buffer.from('0') });
    await drain(watch, events, () => events.length >= 1);
    paused!.pause();
    // The leader keeps 500 entries behind each snapshot (every 200): whatever it sent the paused
    // member before compacting past it reaches at most ~1,300 entries further (256 pipelined
    // appends of at most 5 writes each, or one probe bounded by the log it still had), and 4,000
    // writes put the leader's log start well past that, so the member must take a snapshot.
    let next = 1;
    await Promise.all(
      Array.from({ length: 5 }, async () => {
        for (let i = next++; i < total; i = next++) await writer.call('kv', 'Put', { key: Buffer.from(`s/${i % 31}`), value: Buffer.from(String(i)) });
      }),
    );
    paused!.resume();
    await drain(watch, events, () => events.length >= total);
    if (!/installed snapshot/.test(paused!.log())) console.log(paused!.log().slice(-3000));
    expect(paused!.log(), 'the member installed a snapshot from the leader').to.match(/installed snapshot/);
    expectEveryWriteInOrder(events, total);
  });

  it('a require-leader watch on a member cut off from the others ends with etcd\'s "no leader", and a new one is refused; a plain watch stays', async () => {
    const [leader, [alone, other]] = await followers();
    const required = new RawWatchStream(alone!.endpoint, true);
    const plain = new RawWatchStream(alone!.endpoint);
    closers.push(
      () => required.close(),
      () => plain.close(),
    );
    required.create({ key: Buffer.from('x') });
    plain.create({ key: Buffer.from('x') });
    expect((await required.next()).created).to.equal(true);
    expect((await plain.next()).created).to.equal(true);
    leader.pause();
    other!.pause();
    try {
      const ended = await required.next(20_000).then(
        () => undefined,
        (err: Error & { code?: number; details?: string }) => err,
      );
      expect(ended?.code).to.equal(14);
      expect(ended?.details).to.equal('etcdserver: no leader');
      const refused = new RawWatchStream(alone!.endpoint, true);
      closers.push(() => refused.close());
      refused.create({ key: Buffer.from('x') });
      const failure = await refused.next(10_000).then(
        () => undefined,
        (err: Error & { code?: number; details?: string }) => err,
      );
      expect([failure?.code, failure?.details]).to.deep.equal([14, 'etcdserver: no leader']);
      // Without the metadata the stream is the member's to keep, as in etcd.
      const quiet = await plain.next(1000).then(
        () => 'a response',
        (err: Error) => err.message,
      );
      expect(quiet).to.equal('no watch response in time');
    } finally {
      leader.resume();
      other!.resume();
    }
  });
});
