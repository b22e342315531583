import { expect } from 'chai';
import { MessageType, Role } from '../../src/protocol/raft-types.js';
import { ScriptedNetwork } from './scripted-network.js';

describe('Raft core: leader election (§5.2, §5.4.1, thesis §4.2.3, §9.6)', () => {
  it('a candidate with votes from a majority becomes leader of a new term and appends a no-op', () => {
    const net = new ScriptedNetwork(['a', 'b', 'c']);
    net.campaign('a');
    const a = net.get('a').raft.status();
    expect(a.role).to.equal(Role.Leader);
    expect(a.term).to.equal(1);
    for (const id of ['b', 'c']) {
      expect(net.get(id).raft.status().leader).to.equal('a');
      expect(net.get(id).hardState.vote).to.equal('a');
    }
    // The no-op of term 1 is replicated and committed everywhere.
    for (const id of ['a', 'b', 'c']) expect(net.get(id).hardState.commit).to.equal(1);
  });

  it('a member votes at most once per term', () => {
    const net = new ScriptedNetwork(['a', 'b', 'c']);
    // b and c each campaign in term 1; a hears b first and must refuse c.
    net.filter = (m) => !(m.from === 'c' && m.to === 'b') && !(m.from === 'b' && m.to === 'c');
    net.get('b').raft.campaign();
    net.get('c').raft.campaign();
    net.deliver();
    const leaders = ['a', 'b', 'c'].filter((id) => net.get(id).raft.status().role === Role.Leader);
    expect(leaders).to.have.length(1);
    const voteResponses = net.sent.filter((m) => m.type === MessageType.VoteResp && m.from === 'a' && m.term === 1);
    expect(voteResponses.filter((m) => !m.reject)).to.have.length(1);
  });

  it('a voter refuses a candidate whose log is less up to date than its own', () => {
    const net = new ScriptedNetwork(['a', 'b', 'c']);
    net.campaign('a');
    net.isolate('c');
    net.propose('a', 'x'); // a and b have entry 2, c does not
    net.heal();
    net.isolate('a');
    net.campaign('c');
    expect(net.get('c').raft.status().role).to.not.equal(Role.Leader);
    const fromB = net.sent.filter((m) => m.type === MessageType.VoteResp && m.from === 'b' && m.to === 'c');
    expect(fromB.at(-1)!.reject).to.equal(true);
  });

  it('planted bug voteWithoutLogCheck: the same stale candidate wins', () => {
    const net = new ScriptedNetwork(['a', 'b', 'c'], { bugs: { voteWithoutLogCheck: true } });
    net.campaign('a');
    net.isolate('c');
    net.propose('a', 'x');
    net.heal();
    net.isolate('a');
    net.campaign('c');
    expect(net.get('c').raft.status().role).to.equal(Role.Leader);
  });

  it('pre-vote: a partitioned member campaigns without raising its term, and does not disrupt the leader when it returns', () => {
    const net = new ScriptedNetwork(['a', 'b', 'c'], { preVote: true, checkQuorum: true });
    net.campaign('a');
    net.isolate('c');
    for (let i = 0; i < 5; i++) net.campaign('c');
    expect(net.get('c').raft.status().term).to.equal(1);
    expect(net.get('c').raft.status().role).to.equal(Role.PreCandidate);
    net.heal();
    net.tick('a', 1); // a heartbeat brings c back as a follower
    expect(net.get('a').raft.status().role).to.equal(Role.Leader);
    expect(net.get('a').raft.status().term).to.equal(1);
    expect(net.get('c').raft.status().leader).to.equal('a');
  });

  it('without pre-vote the returning member forces a new term (what pre-vote prevents)', () => {
    const net = new ScriptedNetwork(['a', 'b', 'c']);
    net.campaign('a');
    net.isolate('c');
    net.campaign('c');
    net.campaign('c');
    expect(net.get('c').raft.status().term).to.equal(3);
    net.heal();
    net.tick('c', 20); // its election timer fires again, with a term above the leader's
    expect(net.get('a').raft.status().term).to.be.greaterThan(3);
  });

  it('check quorum: a leader that hears from no majority for an election timeout steps down', () => {
    const net = new ScriptedNetwork(['a', 'b', 'c'], { checkQuorum: true });
    net.campaign('a');
    net.isolate('a');
    net.tick('a', 20);
    expect(net.get('a').raft.status().role).to.equal(Role.Follower);
    expect(net.get('a').raft.status().leader).to.equal('');
  });

  it('leader lease: with check quorum, members that hear the leader ignore a disruptive vote request', () => {
    const net = new ScriptedNetwork(['a', 'b', 'c'], { checkQuorum: true });
    net.campaign('a');
    net.filter = (m) => !(m.to === 'c' && m.from === 'a');
    net.campaign('c'); // c lost the leader's heartbeats, but a and b still hear each other
    expect(net.get('a').raft.status().role).to.equal(Role.Leader);
    expect(net.get('b').raft.status().term).to.equal(1);
  });

  it('a leader that sees a higher term steps down to follower', () => {
    const net = new ScriptedNetwork(['a', 'b', 'c']);
    net.campaign('a');
    net.isolate('a');
    net.campaign('b');
    expect(net.get('b').raft.status().role).to.equal(Role.Leader);
    net.heal();
    net.tick('b', 1);
    expect(net.get('a').raft.status().role).to.equal(Role.Follower);
    expect(net.get('a').raft.status().term).to.equal(2);
    expect(net.get('a').raft.status().leader).to.equal('b');
  });

  it('a learner never campaigns', () => {
    const net = new ScriptedNetwork(['a', 'b'], { learners: ['l'] });
    net.tick('l', 100);
    expect(net.get('l').raft.status().role).to.equal(Role.Follower);
    expect(net.sent.filter((m) => m.from === 'l')).to.have.length(0);
  });
});
