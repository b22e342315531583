import { expect } from 'chai';
import type { HealthCheck } from '../../src/ports/health-check.js';
import { MemberHealth } from '../../src/services/member-health.js';

const check = (name: string, kind: HealthCheck['kind'], answer: () => Promise<{ healthy: boolean; reason?: string }>): HealthCheck => ({
  name,
  kind,
  check: answer,
});

describe('MemberHealth', () => {
  it('readiness asks every check, liveness only the liveness checks; healthy only when every check asked is', async () => {
    const health = new MemberHealth([
      check('process', 'liveness', async () => ({ healthy: true })),
      check('leader', 'readiness', async () => ({ healthy: false, reason: 'RAFT NO LEADER' })),
    ]);
    expect(await health.check('readiness')).to.deep.equal({
      healthy: false,
      checks: [
        { name: 'process', healthy: true },
        { name: 'leader', healthy: false, reason: 'RAFT NO LEADER' },
      ],
    });
    expect(await health.check('liveness')).to.deep.equal({ healthy: true, checks: [{ name: 'process', healthy: true }] });
    expect(health.names('readiness')).to.deep.equal(['process', 'leader']);
    expect(health.names('liveness')).to.deep.equal(['process']);
  });

  it('runs only the checks a selection keeps: `only` names, minus `exclude`; the others are not even asked', async () => {
    const asked: string[] = [];
    const counted = (name: string, kind: HealthCheck['kind']): HealthCheck =>
      check(name, kind, async () => {
        asked.push(name);
        return { healthy: true };
      });
    const health = new MemberHealth([
      counted('data_corruption', 'readiness'),
      counted('serializable_read', 'liveness'),
      counted('linearizable_read', 'readiness'),
    ]);
    expect((await health.check('readiness', { exclude: ['linearizable_read', 'no_such_check'] })).checks.map((c) => c.name)).to.deep.equal([
      'data_corruption',
      'serializable_read',
    ]);
    expect((await health.check('readiness', { only: ['linearizable_read'] })).checks.map((c) => c.name)).to.deep.equal(['linearizable_read']);
    // A readiness check is not among the liveness checks, even when named.
    expect((await health.check('liveness', { only: ['linearizable_read'] })).checks).to.deep.equal([]);
    expect(asked).to.deep.equal(['data_corruption', 'serializable_read', 'linearizable_read']);
  });

  it('a check that throws counts as unhealthy with its message, and the others are still reported', async () => {
    const health = new MemberHealth([
      check('disk', 'readiness', async () => {
        throw new Error('EIO reading /data');
      }),
      check('alarms', 'readiness', async () => ({ healthy: true })),
    ]);
    const result = await health.check('readiness');
    expect(result.healthy).to.equal(false);
    expect(result.checks).to.deep.equal([
      { name: 'disk', healthy: false, reason: 'EIO reading /data' },
      { name: 'alarms', healthy: true },
    ]);
  });

  it("answers etcd's /health verdict through the kernel's verdict when it has one, else from the readiness checks", async () => {
    const failing = [check('disk', 'readiness', async () => ({ healthy: false, reason: 'full' }))];
    expect(await new MemberHealth(failing).verdict()).to.deep.equal({ healthy: false, reason: 'full' });
    const asked: unknown[] = [];
    const verdict = {
      verdict: async (options?: unknown) => {
        asked.push(options);
        return { healthy: true, reason: '' };
      },
    };
    expect(await new MemberHealth(failing, verdict).verdict({ serializable: true })).to.deep.equal({ healthy: true, reason: '' });
    expect(asked).to.deep.equal([{ serializable: true }]);
  });

  it('with no checks contributed the member is healthy', async () => {
    expect(await new MemberHealth().check('readiness')).to.deep.equal({ healthy: true, checks: [] });
    expect(await new MemberHealth().verdict()).to.deep.equal({ healthy: true, reason: '' });
  });
});
