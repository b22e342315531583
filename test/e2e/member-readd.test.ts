import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EtcdctlResult } from '../compat/etcdctl.js';
import { skipWithoutEtcdctl } from '../compat/processes.js';
import { initialCluster, MemberProcess, memberArgs, ProcessCluster, type ServerKind } from './cluster-processes.js';
import { eventually, memberList } from './cluster-scenarios.js';

/**
 * etcd's way to replace a member: `member remove` it, wipe its data dir, `member add` it again at
 * the same peer URL and start it with `--initial-cluster-state existing`. The cluster gives it a
 * new ID (etcd mixes the time in; a removed ID never comes back) and the member learns that ID from
 * the cluster. The same steps run against Cairn and, as the reference, a real etcd 3.4.
 */
/**
 * A membership change through etcdctl. etcd 3.4 (strict reconfig check) refuses one until its
 * members have been connected for 5 s (`unhealthy cluster`): retry that refusal only.
 */
async function reconfigure(via: MemberProcess, args: readonly string[]): Promise<EtcdctlResult> {
  let r = await via.etcdctl(args);
  for (let tries = 0; r.code !== 0 && r.stderr.includes('unhealthy cluster') && tries < 40; tries++) {
    await new Promise((done) => setTimeout(done, 500));
    r = await via.etcdctl(args);
  }
  return r;
}

describe('member remove, then member add at the same peer URL (real processes)', function () {
  this.timeout(120_000);
  let dir: string;
  let cluster: ProcessCluster | undefined;

  beforeEach(async function () {
    skipWithoutEtcdctl(this);
    dir = await mkdtemp(join(tmpdir(), 'cairn-readd-'));
  });

  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  async function readdAtSameUrl(kind: ServerKind): Promise<void> {
    cluster = await ProcessCluster.start(kind, dir, 3);
    const leader = await cluster.leader();
    expect((await leader.etcdctl(['put', 'before', 'removal'])).code).to.equal(0);
    const victim = cluster.members.find((m) => m !== leader)!;
    const oldId = (await memberList(leader)).find((m) => m.peerUrl === victim.peerUrl)!.id;

    const removed = await reconfigure(leader, ['member', 'remove', oldId]);
    expect(removed.code, removed.stderr).to.equal(0);
    await victim.stop();
    await rm(victim.spec.dataDir, { recursive: true, force: true });
    expect((await leader.etcdctl(['put', 'while', 'removed'])).code).to.equal(0);

    const added = await reconfigure(leader, ['member', 'add', victim.spec.name, `--peer-urls=${victim.peerUrl}`]);
    expect(added.code, added.stderr).to.equal(0);
    const newId = /Member +([0-9a-f]+) added/.exec(added.stdout)?.[1];
    expect(newId, added.stdout).to.be.a('string').and.not.equal(oldId);
    expect(added.stdout).to.include(`ETCD_INITIAL_CLUSTER_STATE="existing"`);

    // The same name, ports and (wiped) data dir, started as etcd's output says: state existing.
    const cluster3 = initialCluster(cluster.members.map((m) => m.spec));
    const rejoined = new MemberProcess(kind, victim.spec, () => memberArgs(kind, victim.spec, cluster3, 'existing'));
    cluster.members[cluster.members.indexOf(victim)] = rejoined;
    await rejoined.start();

    // It joined: a linearizable read on it sees what was written before it was removed and while it was away.
    await eventually('the re-added member serves a linearizable read', 30_000, async () => {
      const r = await rejoined.etcdctl(['get', 'while', '--consistency=l', '--print-value-only']);
      return r.code === 0 && r.stdout.trim() === 'removed';
    });
    expect((await rejoined.etcdctl(['get', 'before', '--print-value-only'])).stdout.trim()).to.equal('removal');
    expect((await rejoined.etcdctl(['put', 'from', 'the-new-member'])).code).to.equal(0);
    await eventually('the new member is listed under its new ID with its name', 10_000, async () => {
      const listed = await memberList(leader);
      return listed.some((m) => m.id === newId && m.name === victim.spec.name && !m.isLearner) && !listed.some((m) => m.id === oldId);
    });

    // Restarted with the same flags, it is the same member (no need for anyone to tell it again).
    await rejoined.stop();
    await rejoined.start();
    await eventually('the restarted member serves a linearizable read', 30_000, async () => {
      const r = await rejoined.etcdctl(['get', 'from', '--consistency=l', '--print-value-only']);
      return r.code === 0 && r.stdout.trim() === 'the-new-member';
    });
    const status = await rejoined.etcdctl(['endpoint', 'status', '-w', 'json']);
    // A uint64 in JSON: read its digits, not a float.
    const memberId = /"member_id":(\d+)/.exec(status.stdout)?.[1];
    expect(
      BigInt(memberId ?? '0')
        .toString(16)
        .padStart(16, '0'),
      status.stdout,
    ).to.equal(newId);
  }

  it('Cairn: the member joins under a new ID and serves', async () => {
    await readdAtSameUrl('cairn');
  });

  it('etcd 3.4 (the reference): the same steps', async function () {
    if (!ProcessCluster.etcdInstalled()) {
      console.log('      skipped: /usr/bin/etcd is not installed');
      this.skip();
    }
    await readdAtSameUrl('etcd');
  });
});
