import { expect } from 'chai';
import { EtcdErrors } from '../../src/api/errors.js';
import type { MemberRegistry } from '../../src/cluster/member-registry.js';
import { ConfChangeType, EntryType, MessageType, type ConfChange, type MemberId, type Message } from '../../src/protocol/raft-types.js';
import { decodeConfChange, memberChangeContext } from '../../src/raft/conf-change.js';
import { MemberClusterService } from '../../src/services/cluster-service.js';
import { LeaderWait } from '../../src/services/leader-wait.js';
import { TestCluster } from '../node/cluster-harness.js';

const FOUNDERS = ['a', 'b', 'c'];
const LEARNER = 'd';

/**
 * Voters a, b, c (a leads) and a learner d in sync, on the harness's virtual clock and memory
 * network, each voter with the kernel's Cluster service; `hold` keeps the messages it picks in the
 * network until `release`. The member registry is a stand-in: promotion reads only Raft's state.
 */
async function promoteCluster() {
  const cluster = new TestCluster([...FOUNDERS, LEARNER]);
  const founders = new Map(FOUNDERS.map((id) => [id, [`mem://${id}`]]));
  for (const id of FOUNDERS) cluster.member(id).node = cluster.newNode(cluster.member(id), { peers: founders });
  cluster.member(LEARNER).node = cluster.newNode(cluster.member(LEARNER), { peers: founders, join: true });
  await cluster.start();
  const settle = <T>(p: Promise<T>): Promise<T> => cluster.clock.settle(p, 30_000);
  const node = (id: MemberId) => cluster.member(id).node;
  await cluster.runUntil(() => FOUNDERS.some((id) => node(id).status().role === 'leader'));
  const first = FOUNDERS.find((id) => node(id).status().role === 'leader')!;
  if (first !== 'a') await settle(node(first).transferLeadership('a'));
  await cluster.runUntil(() => FOUNDERS.every((id) => node(id).currentLeader() === 'a'));

  await settle(node('a').proposeConfChange({ type: ConfChangeType.AddLearner, memberId: LEARNER, context: memberChangeContext([`mem://${LEARNER}`]) }));
  await cluster.write(cluster.member('a'), 'x', '1');
  const inSync = (leader: MemberId): boolean => (node(leader).status().match.get(LEARNER) ?? 0) >= node(leader).status().lastIndex;
  expect(await cluster.runUntil(() => inSync('a'))).to.equal(true);

  const registry = { get: () => undefined, wasRemoved: () => false } as unknown as MemberRegistry;
  const services = new Map(
    FOUNDERS.map((id) => {
      const settings = { initialClusterToken: 't', electionTimeoutMs: 100 };
      const leaderWait = new LeaderWait(node(id), cluster.clock, settings);
      const headers = { header: (revision: number) => ({ clusterId: 1n, memberId: 2n, revision, raftTerm: 1 }) };
      return [id, new MemberClusterService(node(id), registry, [], settings, { currentRevision: 1 }, headers, leaderWait, cluster.clock)];
    }),
  );

  const held: Message[] = [];
  let hold: (m: Message) => boolean = () => false;
  const route = cluster.network.route.bind(cluster.network);
  cluster.network.route = (m: Message): void => {
    if (hold(m)) held.push(m);
    else route(m);
  };
  const release = (): void => {
    hold = () => false;
    for (const m of held.splice(0)) route(m);
  };
  /** Move leadership from a to c and wait until every founder follows c. */
  const leadershipToC = async (): Promise<void> => {
    await settle(node('a').transferLeadership('c'));
    expect(await cluster.runUntil(() => FOUNDERS.every((id) => node(id).currentLeader() === 'c'))).to.equal(true);
  };
  /** The term of the PromoteLearner entry for d in a's log, if there is one. */
  const promotionTerm = async (): Promise<number | undefined> => {
    const log = cluster.member('a').log;
    const entries = await log.entries(log.firstIndex(), log.lastIndex() + 1);
    const promotion = entries.find((e) => {
      if (e.type !== EntryType.ConfChange) return false;
      const change: ConfChange = decodeConfChange(e.data);
      return change.type === ConfChangeType.PromoteLearner && change.memberId === LEARNER;
    });
    return promotion?.term;
  };
  const setHold = (pick: (m: Message) => boolean): void => {
    hold = pick;
  };
  return { cluster, node, services, settle, held, setHold, release, leadershipToC, promotionTerm, inSync };
}

/** Settle `promise` into its outcome: 'ok', or the error's message. */
const outcome = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'ok',
    (err: Error) => err.message,
  );

describe('member promote through a follower when the leader changes (issue 18, item 6)', function () {
  this.timeout(60_000);

  it("the learner's readiness is checked by the member that proposes the promotion, with no leader change in between", async () => {
    const c = await promoteCluster();
    // c will never see d: if c proposed the promotion, it would promote a learner it never saw in sync.
    c.cluster.network.block('c', LEARNER);
    c.cluster.network.block(LEARNER, 'c');
    const aTerm = c.node('a').status().term;
    // The leader's answers to b wait in the network while the leadership moves to c.
    c.setHold((m) => m.type === MessageType.LeaderResponse && m.to === 'b');
    const promotion = outcome(c.services.get('b')!.memberPromote(LEARNER));
    expect(await c.cluster.runUntil(() => c.held.length > 0)).to.equal(true);
    await c.leadershipToC();
    c.release();
    expect(await c.settle(promotion)).to.equal('ok');
    // Proposed by a, in its term, when a had checked d; not by c after the change.
    expect(await c.promotionTerm()).to.equal(aTerm);
    for (const id of FOUNDERS) expect(c.node(id).membership().voters).to.include(LEARNER);
  });

  it('a forwarded promotion that reaches a member no longer leading goes to the new leader, which checks the learner itself', async () => {
    const c = await promoteCluster();
    c.cluster.network.block('c', LEARNER);
    c.cluster.network.block(LEARNER, 'c');
    // b's request to a waits in the network while the leadership moves to c.
    c.setHold((m) => m.type === MessageType.LeaderRequest && m.from === 'b');
    const promotion = outcome(c.services.get('b')!.memberPromote(LEARNER));
    expect(await c.cluster.runUntil(() => c.held.length > 0)).to.equal(true);
    await c.leadershipToC();
    c.release();
    // c has never heard from d: refused, as etcd refuses a learner out of sync with the leader.
    expect(await c.settle(promotion)).to.equal(EtcdErrors.learnerNotReady().message);
    expect(await c.promotionTerm()).to.equal(undefined);
    for (const id of FOUNDERS) expect(c.node(id).membership().learners).to.include(LEARNER);

    // Once c reaches d and d catches up, the same promotion through b succeeds.
    c.cluster.network.heal();
    expect(await c.cluster.runUntil(() => c.inSync('c'))).to.equal(true);
    expect(await c.settle(outcome(c.services.get('b')!.memberPromote(LEARNER)))).to.equal('ok');
    expect(await c.promotionTerm()).to.equal(c.node('c').status().term);
    for (const id of FOUNDERS) expect(c.node(id).membership().voters).to.include(LEARNER);
  });

  it('on the leader itself: refused when the learner is not in sync, promoted when it is', async () => {
    const c = await promoteCluster();
    c.cluster.network.isolate(LEARNER, FOUNDERS);
    for (let i = 0; i < 20; i++) await c.cluster.write(c.cluster.member('a'), `k${i}`, 'v');
    expect(await c.settle(outcome(c.services.get('a')!.memberPromote(LEARNER)))).to.equal(EtcdErrors.learnerNotReady().message);
    expect(await c.settle(outcome(c.services.get('b')!.memberPromote(LEARNER)))).to.equal(EtcdErrors.learnerNotReady().message);
    c.cluster.network.heal();
    expect(await c.cluster.runUntil(() => c.inSync('a'))).to.equal(true);
    expect(await c.settle(outcome(c.services.get('a')!.memberPromote(LEARNER)))).to.equal('ok');
    expect(await c.settle(outcome(c.services.get('b')!.memberPromote(LEARNER)))).to.equal(EtcdErrors.memberNotLearner().message);
  });
});
