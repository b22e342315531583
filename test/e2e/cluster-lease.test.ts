import { expect } from 'chai';
import { Etcd3, type Lease } from 'etcd3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipWithoutEtcdctl } from '../compat/processes.js';
import { ProcessCluster, type MemberProcess } from './cluster-processes.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Leased keys `prefix*` that `member` has applied (serializable read). */
async function localCount(member: MemberProcess, prefix: string): Promise<number> {
  const r = await member.etcdctl(['get', prefix, '--prefix', '--keys-only', '--consistency=s', '-w', 'json']);
  if (r.code !== 0) throw new Error(r.stderr);
  return (JSON.parse(r.stdout) as { count?: number }).count ?? 0;
}

async function leaseList(member: MemberProcess): Promise<string[]> {
  const r = await member.etcdctl(['lease', 'list']);
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout.trim().split('\n').slice(1).sort();
}

/**
 * Leases on a 3-member cluster of real `cairn` processes: keep-alives sent to a follower reach the
 * leader (asked of it in batches, outside the log), the leader's death extends leases instead of expiring them,
 * and a lease nobody renews still expires, through Raft, with its keys.
 */
describe('leases on a 3-member cluster of real processes', function () {
  this.timeout(120_000);
  let dir: string;
  let cluster: ProcessCluster | undefined;
  let client: Etcd3 | undefined;

  before(async function () {
    skipWithoutEtcdctl(this);
    dir = await mkdtemp(join(tmpdir(), 'cairn-cluster-lease-'));
    cluster = await ProcessCluster.start('cairn', dir, 3);
  });

  after(async () => {
    client?.close();
    await cluster?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('kill -9 of the leader: 30 leases kept alive through a follower all survive, an unrenewed one expires with its key', async () => {
    const leader = await cluster!.leader();
    const follower = cluster!.members.find((m) => m !== leader)!;
    client = new Etcd3({ hosts: follower.endpoint });
    const leases: Lease[] = [];
    let lost = 0;
    for (let i = 0; i < 30; i++) {
      const lease = client.lease(6);
      lease.on('lost', () => {
        lost++;
      });
      await lease.put(`kept/${i}`).value(String(i));
      leases.push(lease);
    }
    const grant = await follower.etcdctl(['lease', 'grant', '3']);
    const unrenewed = /lease ([0-9a-f]+) granted/.exec(grant.stdout)![1]!;
    expect((await follower.etcdctl(['put', '--lease', unrenewed, 'unrenewed/k', 'v'])).code).to.equal(0);
    for (const m of cluster!.members) expect(await localCount(m, 'kept/')).to.equal(30);

    await sleep(2_000);
    const killedAt = Date.now();
    await leader.kill();
    const next = await cluster!.leader();
    console.log(`      new leader ${next.spec.name} ${Date.now() - killedAt} ms after the kill`);

    // Two TTLs after the kill, every kept lease and its key is there on both survivors.
    await sleep(12_000);
    expect(lost, 'leases reported lost by the client').to.equal(0);
    for (const m of cluster!.running()) {
      expect(await localCount(m, 'kept/'), `kept keys on ${m.spec.name}`).to.equal(30);
      expect((await leaseList(m)).length, `leases on ${m.spec.name}`).to.equal(30);
    }
    // The one nobody renewed expired after its TTL (restarted by the new leader), and took its key.
    for (const m of cluster!.running()) expect(await localCount(m, 'unrenewed/')).to.equal(0);
    const ttl = await next.etcdctl(['lease', 'timetolive', unrenewed]);
    expect(ttl.stdout).to.equal(`lease ${unrenewed} already expired\n`);

    // The killed member comes back and learns the same leases from the log.
    await leader.start();
    const expected = await leaseList(next);
    const deadline = Date.now() + 20_000;
    while (JSON.stringify(await leaseList(leader).catch(() => [])) !== JSON.stringify(expected) && Date.now() < deadline) await sleep(200);
    expect(await leaseList(leader)).to.deep.equal(expected);
    expect(await localCount(leader, 'kept/')).to.equal(30);
    expect(await localCount(leader, 'unrenewed/')).to.equal(0);

    // Revoked, each lease's key goes everywhere.
    for (const lease of leases) await lease.revoke();
    for (const m of cluster!.members) {
      const until = Date.now() + 5_000;
      while ((await localCount(m, 'kept/')) !== 0 && Date.now() < until) await sleep(100);
      expect(await localCount(m, 'kept/')).to.equal(0);
    }
  });

  it('a lease granted on one member, its keys attached on another: timetolive --keys and list agree on every member', async () => {
    const [a, b, c] = cluster!.running();
    const grant = await a!.etcdctl(['lease', 'grant', '60']);
    const id = /lease ([0-9a-f]+) granted/.exec(grant.stdout)![1]!;
    await b!.etcdctl(['put', '--lease', id, 'shared/x', '1']);
    await c!.etcdctl(['put', '--lease', id, 'shared/y', '2']);
    for (const m of [a!, b!, c!]) {
      const r = await m.etcdctl(['lease', 'timetolive', id, '--keys']);
      expect(r.stdout).to.match(new RegExp(`^lease ${id} granted with TTL\\(60s\\), remaining\\((5\\d|60)s\\), attached keys\\(\\[shared/x shared/y\\]\\)`));
      expect(await leaseList(m)).to.include(id);
    }
    expect((await c!.etcdctl(['lease', 'revoke', id])).code).to.equal(0);
    for (const m of [a!, b!, c!]) expect(await m.etcdctl(['get', 'shared/', '--prefix', '--keys-only'])).to.include({ stdout: '' });
  });
});
