import { expect } from 'chai';
import { EntryType, MessageType, Role } from '../../src/protocol/raft-types.js';
import { ScriptedNetwork } from './scripted-network.js';

/** Let followers take index 2 from the new leader, but never index 3 (its own term's no-op). */
function holdBackIndex3(net: ScriptedNetwork): void {
  const hasIndex2 = new Set<string>();
  net.filter = (m) => {
    if (m.type === MessageType.AppResp && !m.reject && m.index >= 2) hasIndex2.add(m.from);
    return !(m.type === MessageType.App && hasIndex2.has(m.to) && m.entries.some((e) => e.index === 3));
  };
}

describe('Raft core: log replication and commitment (§5.3, §5.4.2)', () => {
  it('replicates proposals in order and commits them on every member', () => {
    const net = new ScriptedNetwork(['a', 'b', 'c']);
    net.campaign('a');
    for (const v of ['x', 'y', 'z']) net.propose('a', v);
    net.tick('a', 1); // a heartbeat carries the final commit index
    for (const id of ['a', 'b', 'c']) expect(net.appliedData(id)).to.deep.equal(['x', 'y', 'z']);
  });

  it('a follower forwards proposals to the leader', () => {
    const net = new ScriptedNetwork(['a', 'b', 'c']);
    net.campaign('a');
    expect(net.propose('b', 'from-b')).to.equal(true);
    net.tick('a', 1);
    for (const id of ['a', 'b', 'c']) expect(net.appliedData(id)).to.deep.equal(['from-b']);
  });

  it('a proposal with no leader known is refused', () => {
    const net = new ScriptedNetwork(['a', 'b', 'c']);
    expect(net.propose('b', 'nobody')).to.equal(false);
  });

  it('nothing commits without a majority', () => {
    const net = new ScriptedNetwork(['a', 'b', 'c', 'd', 'e']);
    net.campaign('a');
    net.isolate('c');
    net.isolate('d');
    net.isolate('e');
    net.propose('a', 'lonely');
    expect(net.get('a').raft.status().commit).to.equal(1);
    expect(net.get('a').raft.status().lastIndex).to.equal(2);
    net.heal();
    net.tick('a', 1);
    expect(net.get('a').raft.status().commit).to.equal(2);
  });

  it("log matching: a follower's conflicting uncommitted suffix is replaced by the leader's entries", () => {
    const net = new ScriptedNetwork(['a', 'b', 'c']);
    net.campaign('a');
    net.isolate('b');
    net.isolate('c');
    net.propose('a', 'doomed-1');
    net.propose('a', 'doomed-2');
    expect(net.get('a').raft.status().lastIndex).to.equal(3);
    net.heal();
    net.isolate('a');
    net.campaign('b');
    net.propose('b', 'kept');
    net.heal();
    net.tick('b', 3);
    const a = net.get('a');
    expect(a.raft.status().role).to.equal(Role.Follower);
    expect(net.appliedData('a')).to.deep.equal(['kept']);
    expect(a.log.map((e) => e.term)).to.deep.equal(net.get('b').log.map((e) => e.term));
  });

  it('a follower far behind is caught up by probing back from the rejection hint', () => {
    const net = new ScriptedNetwork(['a', 'b', 'c']);
    net.campaign('a');
    net.isolate('c');
    for (let i = 0; i < 20; i++) net.propose('a', `v${i}`);
    net.heal();
    net.tick('a', 2);
    expect(net.appliedData('c')).to.have.length(20);
    // It first rejected the leader's guess and told it where its log ends.
    const reject = net.sent.find((m) => m.type === MessageType.AppResp && m.from === 'c' && m.reject);
    expect(reject?.rejectHint).to.equal(1);
  });

  it('a leader never commits an entry of an earlier term by counting replicas (Figure 8)', () => {
    // a leads term 1 and gets entry 2 only onto b; then a new leader in a later term finds it on a
    // majority. It must not commit it until an entry of its own term is on a majority.
    const net = new ScriptedNetwork(['a', 'b', 'c', 'd', 'e'], { maxSizePerMsg: 1 });
    net.campaign('a');
    net.filter = (m) => !(m.from === 'a' && ['c', 'd', 'e'].includes(m.to));
    net.propose('a', 'old-term'); // index 2, term 1, on a and b
    net.heal();
    net.isolate('a');
    // b wins term 2 (c, d, e are behind it), and replicates: c acks index 2 before index 3.
    holdBackIndex3(net);
    net.campaign('b');
    const b = net.get('b').raft.status();
    expect(b.role).to.equal(Role.Leader);
    expect(b.term).to.equal(2);
    expect(b.match.get('c')).to.equal(2); // index 2 is on b, c, d, e: a majority...
    expect(b.commit).to.equal(1); // ...yet not committed: its term is 1
    net.heal();
    net.isolate('a');
    net.tick('b', 1);
    expect(net.get('b').raft.status().commit).to.equal(3); // the term-2 no-op commits both
  });

  it('planted bug commitPreviousTermByCount: the same scenario commits the old entry early', () => {
    const net = new ScriptedNetwork(['a', 'b', 'c', 'd', 'e'], { maxSizePerMsg: 1, bugs: { commitPreviousTermByCount: true } });
    net.campaign('a');
    net.filter = (m) => !(m.from === 'a' && ['c', 'd', 'e'].includes(m.to));
    net.propose('a', 'old-term');
    net.heal();
    net.isolate('a');
    holdBackIndex3(net);
    net.campaign('b');
    expect(net.get('b').raft.status().commit).to.equal(2);
  });

  it('flow control: a leader stops sending to a follower once its inflight window is full', () => {
    const net = new ScriptedNetwork(['a', 'b']);
    net.campaign('a');
    // Drop b's answers: a keeps pipelining only up to maxInflightMsgs (256) unanswered appends.
    net.filter = (m) => !(m.from === 'b' && m.type === MessageType.AppResp);
    for (let i = 0; i < 300; i++) net.get('a').raft.propose(new TextEncoder().encode(`p${i}`));
    net.deliver();
    const appends = net.sent.filter(
      (m) => m.type === MessageType.App && m.to === 'b' && m.entries.some((e) => e.type === EntryType.Normal && e.data.length > 0),
    );
    expect(appends.length).to.equal(256);
  });
});
