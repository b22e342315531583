#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { simulate, type SimulationOptions, type SimulationResult } from './simulation.js';
import type { PlantedBugs } from '../../raft/core-api.js';
import { appendReliabilityRecord, commitUnderTest } from '../reliability-record.js';
import { simulatorRecord } from './reliability-record.js';

const USAGE = `Cairn cluster simulator: seeded runs of a Raft cluster under faults, checked for safety and linearizability.

  npm run sim -- --seed N                  replay one seed (prints the failure and the last log lines)
  npm run sim -- --seeds 10000 [--start S] run seeds S, S+1, ... and print seeds/s
options:
  --members 3|5        cluster size (default 3)
  --duration MS        virtual milliseconds of faults and traffic (default 3000)
  --bug NAME           plant a bug: voteWithoutLogCheck | commitPreviousTermByCount | readWithoutReadIndex | ackAfterFailedSync
                       | leaseReadWithoutCheckQuorum | heartbeatCommitBeyondMatch
  --keep-going         with --seeds: do not stop at the first failing seed
  --record PATH        append one JSON line per seed to PATH (the reliability records behind
                       docs/reliability.md); $CAIRN_RELIABILITY_RECORD does the same
From sources: node --conditions=source --import tsx core/src/testkit/simulator/cli.ts --seed N`;

const BUGS = [
  'voteWithoutLogCheck',
  'commitPreviousTermByCount',
  'readWithoutReadIndex',
  'ackAfterFailedSync',
  'leaseReadWithoutCheckQuorum',
  'heartbeatCommitBeyondMatch',
] as const;

function replayCommand(seed: number, members: number, duration: number, bug: string | undefined): string {
  return `npm run sim -- --seed ${seed} --members ${members}${duration !== 3000 ? ` --duration ${duration}` : ''}${bug ? ` --bug ${bug}` : ''}`;
}

function printFailure(r: SimulationResult, command: string, withLog: boolean): void {
  console.log(`seed ${r.seed} FAILED: ${r.property}`);
  console.log(r.failure);
  if (withLog && r.logTail.length > 0) {
    console.log('last log lines:');
    for (const line of r.logTail) console.log(`  ${line}`);
  }
  console.log(`replay: ${command}`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string' },
      seeds: { type: 'string' },
      start: { type: 'string' },
      members: { type: 'string' },
      duration: { type: 'string' },
      bug: { type: 'string' },
      'keep-going': { type: 'boolean' },
      record: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || (values.seed === undefined && values.seeds === undefined)) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const members = Number(values.members ?? 3);
  if (members !== 3 && members !== 5) {
    console.error('--members must be 3 or 5');
    return 2;
  }
  const duration = Number(values.duration ?? 3000);
  const bug = values.bug;
  if (bug !== undefined && !(BUGS as readonly string[]).includes(bug)) {
    console.error(`--bug must be one of ${BUGS.join(', ')}`);
    return 2;
  }
  const bugs: PlantedBugs | undefined = bug === undefined ? undefined : { [bug]: true };
  const options = (seed: number): SimulationOptions => ({ seed, members, durationMs: duration, ...(bugs ? { bugs } : {}) });
  const recordPath = values.record ?? (process.env['CAIRN_RELIABILITY_RECORD'] || undefined);
  const commit = recordPath === undefined ? undefined : commitUnderTest();
  /** Runs one seed, and appends its record when asked to. */
  const run = async (seed: number): Promise<SimulationResult> => {
    const began = performance.now();
    const r = await simulate(options(seed));
    if (recordPath !== undefined) {
      const command = replayCommand(seed, members, duration, bug);
      appendReliabilityRecord(
        recordPath,
        simulatorRecord(r, {
          members,
          virtualMs: duration,
          wallMs: performance.now() - began,
          command,
          ...(commit === undefined ? {} : { commit }),
          ...(bug === undefined ? {} : { plantedBug: bug }),
        }),
      );
    }
    return r;
  };

  if (values.seed !== undefined) {
    const seed = Number(values.seed);
    const r = await run(seed);
    if (!r.ok) {
      printFailure(r, replayCommand(seed, members, duration, bug), true);
      return 1;
    }
    const faults = Object.entries(r.faults)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k}=${n}`)
      .join(' ');
    console.log(
      `seed ${seed} ok: ${r.operations} operations (${r.completed} answered), ${r.leaderTerms} leader terms, commit ${r.highestCommitted}, ${r.snapshotsSent} snapshots sent; faults: ${faults}`,
    );
    return 0;
  }

  const count = Number(values.seeds);
  const start = Number(values.start ?? 1);
  const began = performance.now();
  let failed = 0;
  let lastReport = began;
  let lastSeed = start;
  for (let seed = start; seed < start + count; seed++) {
    lastSeed = seed;
    const r = await run(seed);
    if (!r.ok) {
      failed++;
      printFailure(r, replayCommand(seed, members, duration, bug), false);
      if (!values['keep-going']) break;
    }
    const now = performance.now();
    if (now - lastReport > 10_000) {
      lastReport = now;
      const done = seed - start + 1;
      console.log(`${done} seeds, ${(done / ((now - began) / 1000)).toFixed(1)} seeds/s`);
    }
  }
  const seconds = (performance.now() - began) / 1000;
  const ran = values['keep-going'] || failed === 0 ? count : lastSeed - start + 1;
  console.log(`${ran} seeds from ${start} (members ${members}): ${failed} failed, ${seconds.toFixed(1)} s, ${(ran / seconds).toFixed(1)} seeds/s`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
