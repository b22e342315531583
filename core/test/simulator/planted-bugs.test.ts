import { expect } from 'chai';
import { simulate, type SimulationOptions } from '../../src/testkit/simulator/simulation.js';
import type { PlantedBugs } from '../../src/raft/core-api.js';

/** Runs seeds until one fails; returns the first failing seed's property, or undefined. */
async function findViolation(
  bugs: PlantedBugs,
  base: Omit<SimulationOptions, 'seed' | 'bugs'>,
  maxSeeds: number,
): Promise<{ seed: number; property: string } | undefined> {
  for (let seed = 1; seed <= maxSeeds; seed++) {
    const r = await simulate({ ...base, seed, bugs });
    if (!r.ok) return { seed, property: r.property! };
  }
  return undefined;
}

describe('the simulator catches planted Raft bugs', function () {
  this.timeout(300_000);

  it('voteWithoutLogCheck: a member with a stale log wins an election', async () => {
    const found = await findViolation(
      { voteWithoutLogCheck: true },
      {
        members: 3,
        durationMs: 3_000,
        faultWeights: {
          'crash': 3,
          'restart': 3,
          'isolate-leader': 2,
          'partition': 2,
          'heal': 2,
          'remove-member': 0,
          'add-learner': 0,
          'promote-learner': 0,
          'disk-failure': 0,
        },
      },
      200,
    );
    expect(found, 'a violation within 200 seeds').to.not.equal(undefined);
  });

  it('commitPreviousTermByCount: an entry of an earlier term is committed by counting replicas', async () => {
    // Figure 8 of the Raft paper needs a follower to hold an old-term entry without the new
    // leader's first entry: one entry per append, frequent crashes and slow links make that common.
    const found = await findViolation(
      { commitPreviousTermByCount: true },
      {
        members: 3,
        durationMs: 3_000,
        faultEveryMs: 40,
        maxSizePerMsg: 1,
        preVote: false,
        checkQuorum: false,
        faultWeights: {
          'crash': 4,
          'restart': 4,
          'isolate-leader': 4,
          'partition': 2,
          'heal': 2,
          'delay': 4,
          'reorder': 3,
          'drop': 4,
          'asymmetric': 1,
          'duplicate': 0,
          'remove-member': 0,
          'add-learner': 0,
          'promote-learner': 0,
          'transfer-leader': 0,
          'disk-failure': 0,
        },
      },
      600,
    );
    expect(found, 'a violation within 600 seeds').to.not.equal(undefined);
  });

  it('readWithoutReadIndex: a deposed leader serves a stale read', async () => {
    const found = await findViolation(
      { readWithoutReadIndex: true },
      {
        members: 3,
        durationMs: 3_000,
        faultWeights: {
          'isolate-leader': 4,
          'heal': 2,
          'crash': 0,
          'restart': 0,
          'remove-member': 0,
          'add-learner': 0,
          'promote-learner': 0,
          'disk-failure': 0,
        },
      },
      200,
    );
    expect(found, 'a violation within 200 seeds').to.not.equal(undefined);
    expect(found!.property).to.equal('linearizability');
  });

  it('ackAfterFailedSync: a member whose log sync failed carries on, and a write it acknowledged is lost', async () => {
    const found = await findViolation({ ackAfterFailedSync: true }, { members: 3, durationMs: 3_000 }, 50);
    expect(found, 'a violation within 50 seeds').to.not.equal(undefined);
  });
});
