import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdctlProcess } from '../compat/etcdctl-process.js';
import { skipWithoutEtcdctl } from '../compat/processes.js';
import { ProcessCluster } from './cluster-processes.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The owner key an `etcdctl lock`/`elect` printed: its first line. */
const ownerKey = (p: EtcdctlProcess): string => p.stdout.split('\n')[0]!.trim();

/**
 * The real etcdctl 3.4's `lock` and `elect` (client-side recipes over KV, leases and watches)
 * against a 3-member cluster of real cairn processes, each etcdctl on a different member.
 */
describe('etcdctl lock and elect on a 3-member cluster', function () {
  this.timeout(120_000);
  let dir: string;
  let cluster: ProcessCluster | undefined;
  const started: EtcdctlProcess[] = [];
  const etcdctl = (member: number, args: string[]): EtcdctlProcess => {
    const p = EtcdctlProcess.start(cluster!.members[member]!.endpoint, args);
    started.push(p);
    return p;
  };

  before(async function () {
    skipWithoutEtcdctl(this);
    dir = await mkdtemp(join(tmpdir(), 'cairn-lock-'));
    cluster = await ProcessCluster.start('cairn', dir, 3);
    await cluster.leader();
  });

  after(async () => {
    for (const p of started) await p.kill();
    await cluster?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** The create revision of `key`, read on member 0. */
  const createRevision = async (key: string): Promise<number> => {
    const r = await cluster!.members[0]!.etcdctl(['get', key, '-w', 'json']);
    return Number(/"create_revision":(\d+)/.exec(r.stdout)?.[1] ?? 0);
  };

  it('two etcdctl lock processes exclude each other; the second gets the lock when the first exits', async () => {
    const first = etcdctl(0, ['lock', 'printer']);
    await first.waitFor('printer/');
    const second = etcdctl(1, ['lock', 'printer']);
    await sleep(1000);
    expect(second.stdout, 'the second holder printed its key while the first held the lock').to.equal('');
    await first.stop();
    await second.waitFor('printer/');
    expect(ownerKey(second)).to.not.equal(ownerKey(first));
    await second.stop();
  });

  it('lock NAME CMD runs the command while holding the lock, with ETCD_LOCK_KEY set', async () => {
    const holder = etcdctl(2, ['lock', 'batch']);
    await holder.waitFor('batch/');
    const run = etcdctl(0, ['lock', 'batch', '--', 'sh', '-c', 'echo "ran with $ETCD_LOCK_KEY"']);
    await sleep(800);
    expect(run.stdout).to.equal('');
    await holder.stop();
    expect(await run.exit(15_000)).to.equal(0);
    expect(run.stdout).to.match(/^ran with batch\/[0-9a-f]+\n$/);
  });

  it('a holder killed with SIGKILL loses the lock after its lease TTL; the waiter gets it with a larger fencing token', async () => {
    const holder = etcdctl(1, ['lock', '--ttl=3', 'fenced']);
    await holder.waitFor('fenced/');
    const token = await createRevision(ownerKey(holder));
    const waiter = etcdctl(2, ['lock', '--ttl=3', 'fenced']);
    await sleep(500);
    const killedAt = Date.now();
    await holder.kill();
    await waiter.waitFor('fenced/', 20_000);
    const tookMs = Date.now() - killedAt;
    console.log(`      the waiter got the lock ${tookMs} ms after kill -9 of the holder (lease TTL 3 s)`);
    expect(tookMs).to.be.greaterThan(1000);
    expect(await createRevision(ownerKey(waiter))).to.be.greaterThan(token);
    expect(await createRevision(ownerKey(holder)), "the dead holder's key expired with its lease").to.equal(0);
    await waiter.stop();
  });

  it('elect: one leader, observers see each proclamation, a new leader when the first exits', async () => {
    const observer = etcdctl(0, ['elect', '-l', 'primary']);
    const one = etcdctl(1, ['elect', 'primary', 'one']);
    await one.waitFor('one');
    await observer.waitFor('one');
    const two = etcdctl(2, ['elect', 'primary', 'two']);
    await sleep(800);
    expect(two.stdout, 'a second leader while the first leads').to.equal('');
    await one.stop();
    await two.waitFor('two');
    await observer.waitFor('two');
    const proclaimed = observer.stdout
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('primary/'));
    expect(proclaimed).to.deep.equal(['one', 'two']);
    await two.stop();
    await observer.stop();
  });
});
