import { expect } from 'chai';
import { MessageType, type Message, type SnapshotMeta } from '../../src/protocol/raft-types.js';
import { ScriptedNetwork, type ScriptedMember } from './scripted-network.js';

/**
 * The driver builds a snapshot when Raft asks for one, from the state machine as it is then (etcd's
 * "merged snapshot"), so the follower installs, and acknowledges, an index past the compaction
 * point the leader's Raft named (its pendingSnapshot).
 */
function laggingFollower(): { net: ScriptedNetwork; a: ScriptedMember; c: ScriptedMember; compactedAt: number; streamed: number[] } {
  const net = new ScriptedNetwork(['a', 'b', 'c']);
  net.campaign('a');
  net.isolate('c');
  for (let i = 0; i < 5; i++) net.propose('a', `v${i}`);
  const a = net.get('a');
  const compactedAt = a.raft.status().applied;
  a.raft.compact({ index: compactedAt, term: 1, confState: a.conf });
  // Applied on after the compaction: the state streamed later is newer than the compaction point.
  for (let i = 5; i < 10; i++) net.propose('a', `v${i}`);
  net.tick('a', 1);
  expect(a.raft.status().applied).to.be.greaterThan(compactedAt);
  // As RaftNode.sendSnapshot does: the state as of the leader's applied index, its term, the membership.
  const streamed: number[] = [];
  net.snapshotFor = (): SnapshotMeta => {
    const applied = a.raft.status().applied;
    streamed.push(applied);
    return { index: applied, term: a.log.find((e) => e.index === applied)!.term, confState: a.conf };
  };
  return { net, a, c: net.get('c'), compactedAt, streamed };
}

const snapsTo = (net: ScriptedNetwork, to: string): Message[] => net.sent.filter((m) => m.type === MessageType.Snap && m.to === to);

describe('Raft core: a snapshot built on demand, past the compaction point', () => {
  it('the follower acknowledges the higher index after the snapshot report; progress moves on from it, with no second snapshot', () => {
    const { net, a, c, compactedAt } = laggingFollower();
    const streamedAt = a.raft.status().applied;
    net.heal();
    net.tick('a', 2);
    expect(snapsTo(net, 'c')).to.have.length(1);
    expect(snapsTo(net, 'c')[0]!.snapshot!.index).to.equal(compactedAt); // what Raft named
    expect(c.snapshot?.index).to.equal(streamedAt); // what the follower got and installed
    expect(a.raft.status().match.get('c')).to.equal(a.raft.status().lastIndex);
    // Later entries reach it by appends, starting right after the installed index.
    net.propose('a', 'after');
    net.tick('a', 2);
    expect(snapsTo(net, 'c')).to.have.length(1);
    expect(net.appliedData('c')).to.deep.equal(['after']);
    expect(c.log[0]?.index).to.equal(streamedAt + 1);
    expect(a.raft.status().match.get('c')).to.equal(a.raft.status().lastIndex);
    expect(c.raft.status().commit).to.equal(a.raft.status().commit);
  });

  it('the acknowledgement may arrive before the snapshot report: the late report changes nothing', () => {
    const { net, a, c } = laggingFollower();
    const streamedAt = a.raft.status().applied;
    net.heldSnapStatus = [];
    net.heal();
    net.tick('a', 2);
    expect(c.snapshot?.index).to.equal(streamedAt);
    expect(a.raft.status().match.get('c')).to.equal(a.raft.status().lastIndex);
    expect(net.heldSnapStatus).to.have.length(1);
    // The acknowledgement alone ends the snapshot state: entries flow before the report arrives.
    net.propose('a', 'before-report');
    net.tick('a', 2);
    expect(net.appliedData('c')).to.deep.equal(['before-report']);
    const report = net.heldSnapStatus[0]!;
    net.heldSnapStatus = undefined;
    a.raft.step(report);
    net.propose('a', 'after');
    net.tick('a', 2);
    expect(snapsTo(net, 'c')).to.have.length(1);
    expect(net.appliedData('c')).to.deep.equal(['before-report', 'after']);
    expect(a.raft.status().match.get('c')).to.equal(a.raft.status().lastIndex);
  });

  it('a snapshot that failed is sent again, of the state as it is by then', () => {
    const { net, a, c, streamed } = laggingFollower();
    net.heal();
    // The first stream is lost on the way; the driver reports the failure.
    let sends = 0;
    net.filter = (m) => !(m.type === MessageType.Snap && m.to === 'c' && sends++ === 0);
    net.tick('a', 1);
    expect(snapsTo(net, 'c')).to.have.length(1);
    expect(c.snapshot).to.equal(undefined);
    a.raft.step({
      type: MessageType.SnapStatus,
      from: 'c',
      to: 'a',
      term: 0,
      logTerm: 0,
      index: 0,
      entries: [],
      commit: 0,
      reject: true,
      rejectHint: 0,
      context: new Uint8Array(0),
    });
    net.propose('a', 'more');
    net.tick('a', 3);
    expect(snapsTo(net, 'c')).to.have.length(2);
    expect(c.snapshot?.index).to.equal(streamed[streamed.length - 1]);
    expect(a.raft.status().match.get('c')).to.equal(a.raft.status().lastIndex);
    expect(c.raft.status().commit).to.equal(a.raft.status().commit);
  });

  it('the leader compacts past the point it named while the follower installs: the report of the index streamed spares a second snapshot', () => {
    const { net, a, c, compactedAt, streamed } = laggingFollower();
    net.heldSnapStatus = [];
    net.heal();
    // Once it has the snapshot, the follower is busy installing: nothing it answers reaches the leader for now.
    let installing = true;
    net.filter = (m) => !(installing && c.snapshot !== undefined && m.from === 'c' && m.to === 'a');
    net.tick('a', 1);
    expect(snapsTo(net, 'c')).to.have.length(1);
    const streamedAt = streamed[0]!;
    expect(streamedAt).to.be.greaterThan(compactedAt);
    expect(c.snapshot?.index).to.equal(streamedAt);
    net.propose('a', 'meanwhile');
    a.raft.compact({ index: streamedAt, term: 1, confState: a.conf });
    expect(a.raft.status().firstIndex).to.equal(streamedAt + 1);
    const report = net.heldSnapStatus[0]!;
    expect(report.index).to.equal(streamedAt);
    net.heldSnapStatus = undefined;
    installing = false;
    a.raft.step(report);
    net.tick('a', 2);
    expect(snapsTo(net, 'c')).to.have.length(1);
    expect(net.appliedData('c')).to.deep.equal(['meanwhile']);
    expect(a.raft.status().match.get('c')).to.equal(a.raft.status().lastIndex);
  });
});
