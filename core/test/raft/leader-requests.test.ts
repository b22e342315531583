import { expect } from 'chai';
import { LeaderRequestError, LeaderRequests } from '../../src/raft/leader-requests.js';
import { MessageType, NO_MEMBER, type MemberId, type Message } from '../../src/protocol/raft-types.js';
import { VirtualClock } from '../../src/testkit/memory/virtual-clock.js';

const text = (b: Uint8Array): string => Buffer.from(b).toString();
const bytes = (s: string): Uint8Array => Buffer.from(s);

/** Two members' LeaderRequests wired back to back; `leader` says who leads for both, `wire` sees every message. */
function pair() {
  const clock = new VirtualClock();
  const state = { leader: 'b' as MemberId, drop: false };
  const wire: Message[] = [];
  const members = new Map<MemberId, LeaderRequests>();
  const deliver = (m: Message): void => {
    wire.push(m);
    if (!state.drop) queueMicrotask(() => members.get(m.to)!.receive(m));
  };
  for (const id of ['a', 'b'])
    members.set(
      id,
      new LeaderRequests(
        () => id,
        () => state.leader,
        () => 3,
        deliver,
        clock,
      ),
    );
  return { clock, state, wire, a: members.get('a')!, b: members.get('b')! };
}

const failure = (p: Promise<unknown>): Promise<Error> =>
  p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: Error) => err,
  );

describe('leader requests (outside the log)', () => {
  it("asks the leader and resolves with its handler's answer; the messages are LeaderRequest/LeaderResponse with the term", async () => {
    const p = pair();
    p.b.serve('echo', (payload, from) => bytes(`${from}:${text(payload)}`));
    expect(text(await p.a.ask('echo', bytes('hi'), 100))).to.equal('a:hi');
    expect(p.wire.map((m) => [m.type, m.from, m.to, m.term])).to.deep.equal([
      [MessageType.LeaderRequest, 'a', 'b', 3],
      [MessageType.LeaderResponse, 'b', 'a', 3],
    ]);
    expect(p.wire[0]!.index).to.equal(p.wire[1]!.index);
  });

  it('refuses at once when this member leads or no leader is known', async () => {
    const p = pair();
    p.state.leader = 'a';
    expect(await failure(p.a.ask('echo', bytes(''), 100))).to.be.instanceOf(LeaderRequestError);
    p.state.leader = NO_MEMBER;
    expect(await failure(p.a.ask('echo', bytes(''), 100))).to.be.instanceOf(LeaderRequestError);
    expect(p.wire).to.deep.equal([]);
  });

  it('a member that does not lead, an unknown kind and a throwing handler answer with a refusal naming why', async () => {
    const p = pair();
    p.b.serve('boom', () => {
      throw new Error('lessor is not primary');
    });
    expect((await failure(p.a.ask('nothing', bytes(''), 100))).message).to.equal('no handler for leader request nothing');
    expect((await failure(p.a.ask('boom', bytes(''), 100))).message).to.equal('lessor is not primary');
    p.b.serve('echo', (payload) => payload);
    // a thinks b leads, b knows it no longer does.
    const stale = p.a.ask('echo', bytes('x'), 100);
    p.state.leader = 'a';
    const err = await failure(stale);
    expect(err).to.be.instanceOf(LeaderRequestError);
    expect(err.message).to.equal('member b is not the leader');
  });

  it('a handler may answer later (a promise): its value, or its rejection as a refusal', async () => {
    const p = pair();
    let settle: ((answer: Uint8Array) => void) | undefined;
    p.b.serve('later', () => new Promise<Uint8Array>((resolve) => (settle = resolve)));
    p.b.serve('refused-later', async () => {
      await Promise.resolve();
      throw new Error('etcdserver: can only promote a learner member which is in sync with leader');
    });
    const later = p.a.ask('later', bytes(''), 100);
    await new Promise((r) => setImmediate(r));
    expect(p.wire.map((m) => m.type)).to.deep.equal([MessageType.LeaderRequest]);
    settle!(bytes('done'));
    expect(text(await later)).to.equal('done');
    const refused = await failure(p.a.ask('refused-later', bytes(''), 100));
    expect(refused).to.be.instanceOf(LeaderRequestError);
    expect(refused.message).to.equal('etcdserver: can only promote a learner member which is in sync with leader');
  });

  it('gives up with LeaderRequestError when no answer comes in time, and ignores the late answer', async () => {
    const p = pair();
    p.b.serve('echo', (payload) => payload);
    p.state.drop = true;
    const asked = failure(p.a.ask('echo', bytes('x'), 100));
    await p.clock.runFor(99);
    let settled = false;
    void asked.then(() => {
      settled = true;
    });
    await Promise.resolve();
    expect(settled).to.equal(false);
    await p.clock.runFor(1);
    const err = await asked;
    expect(err).to.be.instanceOf(LeaderRequestError);
    expect(err.message).to.equal('leader b did not answer echo in 100 ms');
    // The answer arriving after the timeout is taken (not stepped into Raft) and changes nothing.
    expect(p.a.receive({ ...p.wire[0]!, type: MessageType.LeaderResponse, from: 'b', to: 'a' })).to.equal(true);
  });

  it('takes an answer only from the member it asked, and leaves Raft messages alone', async () => {
    const p = pair();
    p.state.drop = true;
    const asked = p.a.ask('echo', bytes('x'), 100);
    const request = p.wire[0]!;
    expect(p.a.receive({ ...request, type: MessageType.LeaderResponse, from: 'c', to: 'a', context: bytes('forged') })).to.equal(true);
    expect(p.a.receive({ ...request, type: MessageType.LeaderResponse, from: 'b', to: 'a', context: bytes('real') })).to.equal(true);
    expect(text(await asked)).to.equal('real');
    expect(p.a.receive({ ...request, type: MessageType.App })).to.equal(false);
  });

  it('failAll rejects every request still waiting', async () => {
    const p = pair();
    p.state.drop = true;
    const asked = failure(p.a.ask('echo', bytes('x'), 100));
    p.a.failAll(new Error('server stopped'));
    expect((await asked).message).to.equal('server stopped');
  });
});
