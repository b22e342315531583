import { expect } from 'chai';
import { ConfChangeType, MessageType, Role, type ConfChange } from '../../src/protocol/raft-types.js';
import { ScriptedNetwork, text } from './scripted-network.js';

const change = (type: ConfChangeType, memberId: string): ConfChange => ({ type, memberId, context: new Uint8Array(0) });

describe('Raft core: snapshots (§7)', () => {
  it('a follower behind the compacted log receives the snapshot, installs it and catches up', () => {
    const net = new ScriptedNetwork(['a', 'b', 'c']);
    net.campaign('a');
    net.isolate('c');
    for (let i = 0; i < 10; i++) net.propose('a', `v${i}`);
    const a = net.get('a');
    const applied = a.raft.status().applied;
    a.raft.compact({ index: applied, term: 1, confState: a.conf });
    expect(a.raft.status().firstIndex).to.equal(applied + 1);
    net.heal();
    net.propose('a', 'after');
    net.tick('a', 2);
    const c = net.get('c');
    expect(net.sent.some((m) => m.type === MessageType.Snap && m.to === 'c')).to.equal(true);
    expect(c.snapshot?.index).to.equal(applied);
    expect(c.raft.status().commit).to.equal(a.raft.status().commit);
    expect(net.appliedData('c')).to.deep.equal(['after']); // the rest came inside the snapshot
  });

  it('a snapshot older than what the follower committed is ignored', () => {
    const net = new ScriptedNetwork(['a', 'b']);
    net.campaign('a');
    net.propose('a', 'x');
    const b = net.get('b');
    const before = b.raft.status().commit;
    b.raft.step({
      type: MessageType.Snap,
      from: 'a',
      to: 'b',
      term: 1,
      logTerm: 0,
      index: 0,
      entries: [],
      commit: 0,
      reject: false,
      rejectHint: 0,
      context: new Uint8Array(0),
      snapshot: { index: 1, term: 1, confState: b.conf },
    });
    expect(b.raft.ready().snapshot).to.equal(undefined);
    expect(b.raft.status().commit).to.equal(before);
  });
});

describe('Raft core: membership changes (§6, thesis §4.1)', () => {
  it('a learner receives the log but does not count toward the quorum; promoted, it votes', () => {
    const net = new ScriptedNetwork(['a', 'b']);
    net.campaign('a');
    net.add('l', { voters: [], learners: [] });
    expect(net.get('a').raft.proposeConfChange(change(ConfChangeType.AddLearner, 'l'))).to.equal(true);
    net.deliver();
    net.tick('a', 2);
    expect(net.get('a').raft.status().confState.learners).to.deep.equal(['l']);
    net.propose('a', 'data');
    net.tick('a', 1);
    expect(net.appliedData('l')).to.deep.equal(['data']);
    // With b away, a learner's ack does not make a quorum of {a, b}.
    net.isolate('b');
    net.propose('a', 'needs-b');
    expect(net.appliedData('a')).to.not.include('needs-b');
    net.heal();
    net.tick('a', 1);
    expect(net.get('a').raft.proposeConfChange(change(ConfChangeType.PromoteLearner, 'l'))).to.equal(true);
    net.deliver();
    net.tick('a', 2);
    expect(net.get('a').raft.status().confState.voters).to.deep.equal(['a', 'b', 'l']);
    // Now l's vote counts: with b away, a and l make a quorum.
    net.isolate('b');
    net.propose('a', 'with-l');
    expect(net.appliedData('a')).to.include('with-l');
  });

  it('only one configuration change may be pending at a time', () => {
    const net = new ScriptedNetwork(['a', 'b', 'c']);
    net.campaign('a');
    net.isolate('b');
    net.isolate('c');
    expect(net.get('a').raft.proposeConfChange(change(ConfChangeType.AddLearner, 'x'))).to.equal(true);
    expect(net.get('a').raft.proposeConfChange(change(ConfChangeType.AddLearner, 'y'))).to.equal(false);
  });

  it('removing a member shrinks the quorum', () => {
    const net = new ScriptedNetwork(['a', 'b', 'c']);
    net.campaign('a');
    net.get('a').raft.proposeConfChange(change(ConfChangeType.RemoveMember, 'c'));
    net.deliver();
    net.tick('a', 1);
    expect(net.get('a').raft.status().confState.voters).to.deep.equal(['a', 'b']);
    net.isolate('c');
    net.propose('a', 'two-of-two');
    expect(net.appliedData('b')).to.include('two-of-two');
  });
});

describe('Raft core: leadership transfer (thesis §3.10)', () => {
  it('hands leadership to an up-to-date follower, which wins the next term at once', () => {
    const net = new ScriptedNetwork(['a', 'b', 'c'], { preVote: true, checkQuorum: true });
    net.campaign('a');
    net.get('a').raft.transferLeadership('b');
    net.deliver();
    expect(net.get('b').raft.status().role).to.equal(Role.Leader);
    expect(net.get('b').raft.status().term).to.equal(2);
    expect(net.sent.some((m) => m.type === MessageType.TimeoutNow && m.to === 'b')).to.equal(true);
  });

  it('catches a lagging transferee up first, and refuses proposals meanwhile', () => {
    const net = new ScriptedNetwork(['a', 'b', 'c']);
    net.campaign('a');
    net.isolate('b');
    net.propose('a', 'b-lacks-this');
    net.heal();
    net.filter = (m) => !(m.to === 'b' && m.type === MessageType.App); // hold b back for now
    net.get('a').raft.transferLeadership('b');
    net.deliver();
    expect(net.get('a').raft.status().transferee).to.equal('b');
    expect(net.propose('a', 'during-transfer')).to.equal(false);
    net.heal();
    net.tick('a', 1);
    expect(net.get('b').raft.status().role).to.equal(Role.Leader);
    expect(net.appliedData('b')).to.include('b-lacks-this');
  });

  it('abandons a transfer that does not finish within an election timeout', () => {
    const net = new ScriptedNetwork(['a', 'b', 'c']);
    net.campaign('a');
    net.isolate('b');
    net.get('a').raft.transferLeadership('b');
    net.deliver();
    net.tick('a', 10);
    expect(net.get('a').raft.status().transferee).to.equal('');
    expect(net.get('a').raft.status().role).to.equal(Role.Leader);
  });
});

describe('Raft core: ReadIndex (thesis §6.4)', () => {
  it('the leader answers with its commit index once a quorum confirms its leadership', () => {
    const net = new ScriptedNetwork(['a', 'b', 'c']);
    net.campaign('a');
    net.propose('a', 'x');
    net.get('a').raft.readIndex(text('r1'));
    net.deliver();
    const rs = net.get('a').readStates;
    expect(rs).to.have.length(1);
    expect(rs[0]!.index).to.equal(net.get('a').raft.status().commit);
    expect(new TextDecoder().decode(rs[0]!.context)).to.equal('r1');
  });

  it('a leader cut off from the quorum never answers (a read it served could be stale)', () => {
    const net = new ScriptedNetwork(['a', 'b', 'c']);
    net.campaign('a');
    net.isolate('a');
    net.get('a').raft.readIndex(text('r1'));
    net.deliver();
    net.tick('a', 3);
    expect(net.get('a').readStates).to.have.length(0);
  });

  it('planted bug readWithoutReadIndex: the cut-off leader answers at once', () => {
    const net = new ScriptedNetwork(['a', 'b', 'c'], { bugs: { readWithoutReadIndex: true } });
    net.campaign('a');
    net.isolate('a');
    net.get('a').raft.readIndex(text('r1'));
    net.deliver();
    expect(net.get('a').readStates).to.have.length(1);
  });

  it("a follower's read is forwarded; its read point is the leader's commit index", () => {
    const net = new ScriptedNetwork(['a', 'b', 'c']);
    net.campaign('a');
    net.isolate('c');
    net.propose('a', 'x');
    net.heal();
    net.filter = (m) => !(m.to === 'c' && (m.type === MessageType.App || m.type === MessageType.Heartbeat) && m.commit > 1);
    net.get('c').raft.readIndex(text('rc'));
    net.deliver();
    const rs = net.get('c').readStates;
    expect(rs).to.have.length(1);
    expect(rs[0]!.index).to.equal(net.get('a').raft.status().commit);
    expect(rs[0]!.index).to.be.greaterThan(net.get('c').raft.status().commit);
  });

  it('a new leader holds reads until it has committed an entry of its own term', () => {
    const net = new ScriptedNetwork(['a', 'b', 'c']);
    net.filter = (m) => m.type !== MessageType.App; // votes pass, the no-op does not
    net.campaign('a');
    net.get('a').raft.readIndex(text('early'));
    net.deliver();
    expect(net.get('a').readStates).to.have.length(0);
    net.heal();
    net.tick('a', 1);
    expect(net.get('a').readStates).to.have.length(1);
    expect(net.get('a').readStates[0]!.index).to.equal(1);
  });
});

describe('Raft core: persistent state and restart (Figure 2)', () => {
  it('a restarted member keeps its term, vote and log, and rejoins without losing committed entries', () => {
    const net = new ScriptedNetwork(['a', 'b', 'c']);
    net.campaign('a');
    net.propose('a', 'x');
    net.tick('a', 1);
    net.restart('b');
    const b = net.get('b').raft.status();
    expect(b.term).to.equal(1);
    expect(b.vote).to.equal('a');
    expect(b.lastIndex).to.equal(2);
    net.propose('a', 'y');
    net.tick('a', 1);
    expect(net.appliedData('b')).to.deep.equal(['x', 'y']);
  });

  it('the Ready asks for a sync when the term, the vote or entries change, and sends votes only after', () => {
    const net = new ScriptedNetwork(['a', 'b', 'c']);
    const a = net.get('a').raft;
    a.campaign();
    const rd = a.ready();
    expect(rd.mustSync).to.equal(true);
    expect(rd.hardState?.vote).to.equal('a');
    expect(rd.messagesBeforePersist.filter((m) => m.type === MessageType.Vote)).to.have.length(0);
    expect(rd.messages.filter((m) => m.type === MessageType.Vote)).to.have.length(2);
    a.advance(rd);
  });
});
