import { expect } from 'chai';
import { Registry } from 'prom-client';
import { KeyIndex, NO_LEASE, type IndexedRevision } from '../../src/mvcc/key-index.js';
import { NO_MEMBER, type MemberId } from '../../src/protocol/raft-types.js';
import type { LeaderChangeListener } from '../../src/raft/consensus.js';
import type { RaftStatus } from '../../src/raft/core-api.js';
import { DiskMetrics } from '../../src/services/disk-metrics.js';
import { RaftMetrics } from '../../src/services/raft-metrics.js';
import { startTestMember } from '../../src/testkit/test-member.js';
import { TemporaryDirectories } from '../../src/testkit/temporary-directories.js';

const valueOf = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

/** A Raft node as RaftMetrics reads it, with plain fields a test sets. */
class NodeStub {
  readonly id: MemberId = '0a9e05c52164694d';
  leader: MemberId = NO_MEMBER;
  applied = 0;
  commit: number | undefined = undefined;
  learners: MemberId[] = [];
  pending = 0;
  failed = 0;
  readonly listeners: LeaderChangeListener[] = [];

  currentLeader = (): MemberId => this.leader;
  appliedIndex = (): number => this.applied;
  status = (): RaftStatus => {
    if (this.commit === undefined) throw new Error('not started');
    return { commit: this.commit } as RaftStatus;
  };
  membership = () => ({ voters: [this.id], learners: this.learners });
  proposalCounts = () => ({ pending: this.pending, failed: this.failed });
  onLeaderChange = (listener: LeaderChangeListener): void => {
    this.listeners.push(listener);
  };

  leads(leader: MemberId): void {
    this.leader = leader;
    for (const l of this.listeners) l(leader, 1);
  }
}

describe("the kernel's metrics, under etcd's names", () => {
  it('RaftMetrics: leadership, leader changes as etcd counts them, proposals, learner and the member ID', async () => {
    const node = new NodeStub();
    const metrics = new RaftMetrics(node);
    const registry = new Registry();
    metrics.register(registry);
    let text = await registry.metrics();
    expect(valueOf(text, 'etcd_server_has_leader')).to.equal(0);
    // Before Raft runs, committed is what was applied.
    node.applied = 4;
    text = await registry.metrics();
    expect(valueOf(text, 'etcd_server_proposals_committed_total')).to.equal(4);
    // etcd counts a change to a known leader, not the loss of one.
    node.leads('bbbbbbbbbbbbbbbb');
    node.leads(NO_MEMBER);
    node.leads(node.id);
    Object.assign(node, { commit: 12, applied: 11, pending: 3, failed: 2, learners: [node.id] });
    text = await registry.metrics();
    expect(valueOf(text, 'etcd_server_has_leader')).to.equal(1);
    expect(valueOf(text, 'etcd_server_is_leader')).to.equal(1);
    expect(valueOf(text, 'etcd_server_leader_changes_seen_total')).to.equal(2);
    expect(valueOf(text, 'etcd_server_proposals_committed_total')).to.equal(12);
    expect(valueOf(text, 'etcd_server_proposals_applied_total')).to.equal(11);
    expect(valueOf(text, 'etcd_server_proposals_pending')).to.equal(3);
    expect(valueOf(text, 'etcd_server_proposals_failed_total')).to.equal(2);
    expect(valueOf(text, 'etcd_server_is_learner')).to.equal(1);
    // Go's types.ID prints no leading zeros.
    expect(valueOf(text, 'etcd_server_id{server_id="a9e05c52164694d"}')).to.equal(1);
    expect(text).to.include('# TYPE etcd_server_proposals_committed_total gauge');
    expect(text).to.include('# TYPE etcd_server_leader_changes_seen_total counter');
  });

  it("DiskMetrics: etcd's two disk histograms and their buckets", async () => {
    const disk = new DiskMetrics();
    const registry = new Registry();
    disk.register(registry);
    disk.logSynced(0.0015);
    disk.backendCommitted(0.0001);
    disk.backendCommitted(10);
    const text = await registry.metrics();
    expect(valueOf(text, 'etcd_disk_wal_fsync_duration_seconds_bucket{le="0.001"}')).to.equal(0);
    expect(valueOf(text, 'etcd_disk_wal_fsync_duration_seconds_bucket{le="0.002"}')).to.equal(1);
    expect(valueOf(text, 'etcd_disk_backend_commit_duration_seconds_bucket{le="8.192"}')).to.equal(1);
    expect(valueOf(text, 'etcd_disk_backend_commit_duration_seconds_count')).to.equal(2);
    expect(text).to.include('# HELP etcd_disk_backend_commit_duration_seconds The latency distributions of commit called by backend.');
  });

  it("the key index counts live keys as etcd's keys gauge does (a delete takes one away, compaction none)", () => {
    const index = new KeyIndex();
    let main = 0;
    const rev = (tombstone = false): IndexedRevision => ({ main: ++main, sub: 0, tombstone, createRevision: main, version: 1, lease: NO_LEASE });
    index.add('a', rev());
    index.add('a', rev());
    index.add('b', rev());
    expect(index.liveKeyCount).to.equal(2);
    index.add('a', rev(true));
    index.add('a', rev(true));
    expect(index.liveKeyCount).to.equal(1);
    index.add('a', rev());
    index.add('b', rev(true));
    expect(index.liveKeyCount).to.equal(1);
    index.compact(main);
    expect([index.liveKeyCount, index.keyCount]).to.deep.equal([1, 1]);
  });

  describe('in members assembled as cairn assembles them', function () {
    this.timeout(30_000);
    const dirs = new TemporaryDirectories('cairn-kernel-metrics');
    after(() => dirs.removeAll());

    it('every contributor shows on the member registry, the values move with writes, and two members of one process each show the process metrics', async () => {
      const [one, two] = [await startTestMember({ dataDir: await dirs.make() }), await startTestMember({ dataDir: await dirs.make() })];
      try {
        const enc = new TextEncoder();
        const before = await one.services.metrics!.text();
        for (let i = 0; i < 5; i++) await one.services.kv.put({ key: enc.encode(`k${i}`), value: enc.encode('v') });
        await one.services.kv.deleteRange({ key: enc.encode('k0') });
        const after = await one.services.metrics!.text();
        const grew = (series: string): number => valueOf(after, series)! - valueOf(before, series)!;
        expect(grew('etcd_server_proposals_committed_total')).to.be.at.least(6);
        expect(grew('etcd_server_proposals_applied_total')).to.be.at.least(6);
        expect(grew('etcd_disk_wal_fsync_duration_seconds_count')).to.be.at.least(1);
        expect(grew('etcd_disk_backend_commit_duration_seconds_count')).to.be.at.least(6);
        expect(valueOf(after, 'etcd_debugging_mvcc_keys_total')).to.equal(4);
        expect(valueOf(after, 'etcd_server_has_leader')).to.equal(1);
        expect(valueOf(after, 'etcd_server_quota_backend_bytes')).to.equal(2 * 1024 ** 3);
        expect(valueOf(after, 'etcd_server_version{server_version="3.4.0"}')).to.equal(1);
        expect(valueOf(after, 'etcd_mvcc_db_total_size_in_bytes')).to.be.greaterThan(0);
        expect(valueOf(after, 'etcd_debugging_mvcc_watcher_total')).to.equal(0);
        const other = await two.services.metrics!.text();
        for (const text of [after, other]) expect(valueOf(text, 'process_cpu_seconds_total')).to.be.greaterThan(0);
        expect(valueOf(other, 'etcd_debugging_mvcc_keys_total')).to.equal(0);
      } finally {
        await one.stop();
        await two.stop();
      }
    });
  });
});
