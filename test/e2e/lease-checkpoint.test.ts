import { expect } from 'chai';
import { Etcd3 } from 'etcd3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipWithoutEtcdctl } from '../compat/processes.js';
import { ProcessCluster, type MemberProcess } from './cluster-processes.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const ELECTION_MS = 1_000;
const TTL_S = 10;

/** True while `member` (a serializable read of its own state) still holds `key`; undefined when it does not answer. */
async function holds(client: Etcd3, key: string): Promise<boolean | undefined> {
  try {
    return (await client.get(key).serializable(true).string()) !== null;
  } catch {
    return undefined;
  }
}

/** When (Date.now()) `key` is gone on every member in `clients`, polled every 20 ms, for up to `ms`. */
async function goneAt(clients: readonly Etcd3[], key: string, ms: number): Promise<number | undefined> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const before = Date.now();
    const answers = await Promise.all(clients.map((c) => holds(c, key)));
    if (answers.every((a) => a === false)) return before;
    await sleep(20);
  }
  return undefined;
}

/**
 * A lease's remaining TTL survives the leader's kill -9 (issue 18, item 5): the cluster checkpoints
 * remaining TTLs through Raft, so the new leader expires a lease at its original deadline, within
 * one election timeout, instead of giving it its whole TTL again (etcd's default without
 * --experimental-enable-lease-checkpoint).
 */
describe('lease checkpoints across a leader kill (real processes)', function () {
  this.timeout(120_000);
  let dir: string;
  let cluster: ProcessCluster | undefined;
  const clients: Etcd3[] = [];

  before(async function () {
    skipWithoutEtcdctl(this);
    dir = await mkdtemp(join(tmpdir(), 'cairn-lease-checkpoint-'));
    cluster = await ProcessCluster.start('cairn', dir, 3, {
      heartbeatMs: 100,
      electionMs: ELECTION_MS,
      extraArgs: ['--experimental-lease-checkpoint-interval', '1s'],
    });
  });

  after(async () => {
    for (const c of clients) c.close();
    await cluster?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('kill -9 of the leader halfway through a lease: its keys go at the original deadline, within one election timeout', async () => {
    const leader = await cluster!.leader();
    const survivors: MemberProcess[] = cluster!.members.filter((m) => m !== leader);
    const onLeader = new Etcd3({ hosts: leader.endpoint });
    clients.push(onLeader);
    for (const m of survivors) clients.push(new Etcd3({ hosts: m.endpoint }));
    const onSurvivors = clients.slice(1);

    // Granted on the leader, never kept alive: its deadline is TTL after the grant was applied there.
    const lease = onLeader.lease(TTL_S, { autoKeepAlive: false });
    const askedAt = Date.now();
    const id = await lease.grant();
    const grantedAt = Date.now();
    await onLeader.put('checkpointed/k').value('v').lease(id);
    for (const c of onSurvivors) {
      for (let i = 0; i < 50 && (await holds(c, 'checkpointed/k')) !== true; i++) await sleep(20);
      expect(await holds(c, 'checkpointed/k')).to.equal(true);
    }

    // Halfway, after several checkpoints (one a second), the leader dies.
    await sleep(askedAt + (TTL_S * 1000) / 2 - Date.now());
    await leader.kill();
    const next = await cluster!.leader();
    const newLeaderAt = Date.now();
    console.log(`      new leader ${next.spec.name} ${newLeaderAt - askedAt} ms after the grant`);

    const gone = await goneAt(onSurvivors, 'checkpointed/k', 2 * TTL_S * 1000);
    expect(gone, 'the leased key never went').to.not.equal(undefined);
    const earliest = askedAt + TTL_S * 1000;
    const latest = grantedAt + TTL_S * 1000;
    console.log(`      key gone ${gone! - earliest} ms after the earliest deadline (grant took ${grantedAt - askedAt} ms)`);
    // Not kept for a whole TTL from the election (that would be ~15 s), not cut short either.
    expect(gone!).to.be.at.least(earliest - ELECTION_MS);
    expect(gone!).to.be.at.most(latest + ELECTION_MS);
  });
});
