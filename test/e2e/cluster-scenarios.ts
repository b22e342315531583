import { expect } from 'chai';
import type { RawEtcdClient } from '../compat/raw-kv-client.js';
import type { MemberProcess, ProcessCluster } from './cluster-processes.js';

/*
 * Scenarios every cluster test runs whatever carries the members' messages (TCP, NATS): kept here
 * once, so each transport's suite states only what is its own.
 */

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function eventually(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(100);
  }
}

export interface ListedMember {
  readonly id: string;
  readonly name: string;
  readonly peerUrl: string;
  readonly clientUrl: string;
  readonly isLearner: boolean;
}

/** `etcdctl member list` (simple form: hex IDs) on `via`. */
export async function memberList(via: MemberProcess): Promise<ListedMember[]> {
  const r = await via.etcdctl(['member', 'list']);
  expect(r.code, r.stderr).to.equal(0);
  return r.stdout
    .trim()
    .split('\n')
    .map((line) => {
      const [id, , name, peerUrl, clientUrl, learner] = line.split(', ');
      return { id: id!, name: name!, peerUrl: peerUrl!, clientUrl: clientUrl!, isLearner: learner === 'true' };
    });
}

/** etcdctl writes a key on each member, then every member's linearizable read answers the same. */
export async function expectSameDataOnEveryMember(members: readonly MemberProcess[]): Promise<void> {
  for (const [i, m] of members.entries()) {
    const r = await m.etcdctl(['put', `greeting/${i}`, `hello from ${m.spec.name}`]);
    expect(r.code, r.stderr).to.equal(0);
  }
  const seen: string[] = [];
  for (const m of members) {
    const r = await m.etcdctl(['get', 'greeting/', '--prefix', '-w', 'json']);
    expect(r.code, r.stderr).to.equal(0);
    const kvs = (JSON.parse(r.stdout) as { kvs: { key: string; value: string; mod_revision: number }[] }).kvs;
    seen.push(JSON.stringify(kvs.map((kv) => [kv.key, kv.value, kv.mod_revision])));
  }
  expect(seen[0]).to.include(Buffer.from(`hello from ${members[members.length - 1]!.spec.name}`).toString('base64'));
  expect(new Set(seen).size, 'every member answers the same linearizable read').to.equal(1);
}

/**
 * kill -9 of the leader while the others take writes: a new leader among the survivors, and once
 * the killed member is back, every acknowledged write is on it and on the new leader.
 * `client` makes a client the caller closes.
 */
export async function expectLeaderKillLosesNothing(cluster: ProcessCluster, client: (m: MemberProcess) => RawEtcdClient): Promise<void> {
  const leader = await cluster.leader();
  const survivors = cluster.members.filter((m) => m !== leader);
  const acked = new Map<string, string>();
  let writing = true;
  const writers = survivors.map(async (m, w) => {
    const c = client(m);
    for (let n = 0; writing; n++) {
      const key = `failover/${w}/${n}`;
      try {
        await c.call('kv', 'Put', { key: Buffer.from(key), value: Buffer.from(String(n)) });
        acked.set(key, String(n));
      } catch {
        // Not acknowledged: it may or may not be applied; only acknowledged writes must survive.
        await sleep(20);
      }
    }
  });
  await sleep(500);
  const killedAt = Date.now();
  await leader.kill();
  const next = await cluster.leader(20_000);
  const electedAfterMs = Date.now() - killedAt;
  await sleep(500);
  writing = false;
  await Promise.all(writers);
  console.log(`      new leader ${next.spec.name} ${electedAfterMs} ms after kill -9 of ${leader.spec.name}; ${acked.size} writes acknowledged`);
  expect(survivors).to.include(next);
  expect(acked.size).to.be.greaterThan(10);

  await leader.start();
  for (const m of [next, leader]) {
    const c = client(m);
    await eventually(`${m.spec.name} has every acknowledged write`, 20_000, async () => {
      const r = await c.call('kv', 'Range', { key: Buffer.from('failover/'), range_end: Buffer.from('failover0'), serializable: true });
      const stored = new Map((r['kvs'] as { key: Buffer; value: Buffer }[]).map((kv) => [kv.key.toString(), kv.value.toString()]));
      return [...acked].every(([k, v]) => stored.get(k) === v);
    });
  }
}
