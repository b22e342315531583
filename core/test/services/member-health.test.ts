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

  it('with no checks contributed the member is healthy', async () => {
    expect(await new MemberHealth().check('readiness')).to.deep.equal({ healthy: true, checks: [] });
  });
});
