import { expect } from 'chai';
import { FAULT_KINDS, simulate, type FaultKind, type SimulationResult } from '../../src/testkit/simulator/simulation.js';

const failureReport = (r: SimulationResult): string =>
  `seed ${r.seed} failed (${r.property}): ${r.failure}\n${r.logTail.join('\n')}\nreplay: npm run sim -- --seed ${r.seed}`;

describe('cluster simulator', function () {
  this.timeout(300_000);

  it('replays a seed exactly', async () => {
    const a = await simulate({ seed: 12345, members: 3 });
    const b = await simulate({ seed: 12345, members: 3 });
    expect(b).to.deep.equal(a);
    expect(a.operations).to.be.greaterThan(10);
  });

  it('keeps every safety property and linearizability over 500 seeds with every fault kind', async () => {
    const seen = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
    let snapshotsSent = 0;
    let completed = 0;
    for (let seed = 1; seed <= 500; seed++) {
      const r = await simulate({ seed, members: seed % 5 === 0 ? 5 : 3, durationMs: 1_500, settleMs: 800 });
      if (!r.ok) expect.fail(failureReport(r));
      for (const k of FAULT_KINDS) seen[k] += r.faults[k];
      snapshotsSent += r.snapshotsSent;
      completed += r.completed;
    }
    for (const k of FAULT_KINDS) expect(seen[k], `fault kind ${k} was injected`).to.be.greaterThan(0);
    expect(snapshotsSent, 'snapshots were sent to lagging members').to.be.greaterThan(0);
    expect(completed).to.be.greaterThan(500);
  });
});
