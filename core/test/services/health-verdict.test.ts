import { expect } from 'chai';
import { AlarmType, type AlarmMember } from '../../src/api/services.js';
import { EtcdErrors } from '../../src/api/errors.js';
import type { RangeRequest, RangeResponse } from '../../src/api/kv-types.js';
import { NO_MEMBER } from '../../src/protocol/raft-types.js';
import { MemberHealthVerdict } from '../../src/services/health-verdict.js';
import { DataCorruptionCheck, LinearizableReadCheck, NonLearnerCheck, SerializableReadCheck } from '../../src/services/kernel-health-checks.js';
import { VirtualClock } from '../../src/testkit/memory/virtual-clock.js';

const ME = '8e9e05c52164694d';
const empty = (): RangeResponse =>
  ({ header: { clusterId: '1', memberId: ME, revision: 1, raftTerm: 1 }, kvs: [], more: false, count: 0 }) as unknown as RangeResponse;

/** What etcd's /health and the read checks depend on, as plain values a test sets. */
class Stubs {
  alarms: AlarmMember[] = [];
  leader = 'aaaaaaaaaaaaaaaa';
  learners: string[] = [];
  reads: RangeRequest[] = [];
  read: () => Promise<RangeResponse> = async () => empty();
  readonly clock = new VirtualClock();

  readonly alarmRegistry = { list: (type: AlarmType = AlarmType.None) => this.alarms.filter((a) => type === AlarmType.None || a.alarm === type) };
  readonly node = { id: ME, currentLeader: () => this.leader, membership: () => ({ voters: [ME], learners: this.learners }) };
  readonly kv = {
    range: (request: RangeRequest) => {
      this.reads.push(request);
      return this.read();
    },
  };

  verdict(): MemberHealthVerdict {
    return new MemberHealthVerdict(this.alarmRegistry, this.node, this.kv, this.clock, { electionTimeoutMs: 1000 });
  }
}

describe("etcd's /health verdict (MemberHealthVerdict)", () => {
  it('is healthy with a leader, no alarm and a linearizable read of one key, keys only', async () => {
    const s = new Stubs();
    expect(await s.verdict().verdict()).to.deep.equal({ healthy: true, reason: '' });
    expect(s.reads).to.have.length(1);
    expect(s.reads[0]).to.include({ limit: 1, keysOnly: true, serializable: false });
  });

  it("reports a raised alarm first, in etcd's words, unless that alarm is excluded by name", async () => {
    const s = new Stubs();
    s.alarms = [{ memberId: ME, alarm: AlarmType.NoSpace }];
    s.leader = NO_MEMBER;
    expect(await s.verdict().verdict()).to.deep.equal({ healthy: false, reason: 'ALARM NOSPACE' });
    expect(await s.verdict().verdict({ excludedAlarms: ['NOSPACE'] })).to.deep.equal({ healthy: false, reason: 'RAFT NO LEADER' });
    s.alarms = [{ memberId: ME, alarm: AlarmType.Corrupt }];
    expect(await s.verdict().verdict({ excludedAlarms: ['NOSPACE'] })).to.deep.equal({ healthy: false, reason: 'ALARM CORRUPT' });
  });

  it('needs no leader when serializable, and then reads locally', async () => {
    const s = new Stubs();
    s.leader = NO_MEMBER;
    expect(await s.verdict().verdict()).to.deep.equal({ healthy: false, reason: 'RAFT NO LEADER' });
    expect(s.reads).to.have.length(0);
    expect(await s.verdict().verdict({ serializable: true })).to.deep.equal({ healthy: true, reason: '' });
    expect(s.reads[0]).to.include({ serializable: true });
  });

  it('reports a failed read as etcd does ("RANGE ERROR:" and the error), and a read that outlasts etcd\'s request timeout as timed out', async () => {
    const s = new Stubs();
    s.read = async () => {
      throw EtcdErrors.noLeader();
    };
    expect(await s.verdict().verdict()).to.deep.equal({ healthy: false, reason: 'RANGE ERROR:etcdserver: no leader' });
    s.read = () => new Promise(() => undefined);
    const pending = s.verdict().verdict();
    // etcd's ReqTimeout: 5 s + two election timeouts.
    s.clock.advance(6_999);
    s.clock.advance(1);
    expect(await pending).to.deep.equal({ healthy: false, reason: 'RANGE ERROR:etcdserver: request timed out' });
  });
});

describe("the kernel's named checks (etcd's /readyz and /livez)", () => {
  it("data_corruption fails only on the CORRUPT alarm, with etcd's message", async () => {
    const s = new Stubs();
    const check = new DataCorruptionCheck(s.alarmRegistry);
    s.alarms = [{ memberId: ME, alarm: AlarmType.NoSpace }];
    expect(await check.check()).to.deep.equal({ healthy: true });
    s.alarms.push({ memberId: ME, alarm: AlarmType.Corrupt });
    expect(await check.check()).to.deep.equal({ healthy: false, reason: 'alarm activated: CORRUPT' });
    expect([check.name, check.kind]).to.deep.equal(['data_corruption', 'readiness']);
  });

  it("serializable_read (a liveness check) and linearizable_read read one key, and fail with the read's error", async () => {
    const s = new Stubs();
    const serializable = new SerializableReadCheck(s.kv);
    const linearizable = new LinearizableReadCheck(s.kv);
    expect([serializable.name, serializable.kind, linearizable.name, linearizable.kind]).to.deep.equal([
      'serializable_read',
      'liveness',
      'linearizable_read',
      'readiness',
    ]);
    expect(await serializable.check()).to.deep.equal({ healthy: true });
    expect(await linearizable.check()).to.deep.equal({ healthy: true });
    expect(s.reads.map((r) => r.serializable === true)).to.deep.equal([true, false]);
    s.read = async () => {
      throw EtcdErrors.timeout();
    };
    expect(await linearizable.check()).to.deep.equal({ healthy: false, reason: 'etcdserver: request timed out' });
  });

  it('non_learner fails on a learner', async () => {
    const s = new Stubs();
    const check = new NonLearnerCheck(s.node);
    expect(await check.check()).to.deep.equal({ healthy: true });
    s.learners = [ME];
    expect(await check.check()).to.deep.equal({ healthy: false, reason: 'not supported for learner' });
  });
});
