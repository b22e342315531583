import { expect } from 'chai';
import { randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkLinearizable, SeededRandom } from '@cairn/core/testkit';
import { skipWithoutEtcdctl } from '../compat/processes.js';
import { ProcessCluster } from './cluster-processes.js';
import {
  clientLoop,
  countFault,
  DeadlineKvClient,
  faultNotes,
  finalReads as readEveryKey,
  HistoryRecorder,
  newFaultLog,
  recordRun,
  restart,
  restartCrashed,
  saveFindings,
  type FaultLog,
} from './fault-history.js';
import { natsPeerTransport, NatsServers, skipWithoutNatsServer, type NatsServerProcess } from './nats-servers.js';

const SEED = Number(process.env['FAULT_SEED'] ?? randomInt(1, 2 ** 31));
/** How members reach each other: `tcp` (peer ports) and `nats` (one nats-server, which the nemesis also restarts). */
type FaultTransport = 'tcp' | 'nats';
const TRANSPORTS = (process.env['FAULT_TRANSPORT'] ?? 'tcp,nats').split(',').filter((t): t is FaultTransport => t === 'tcp' || t === 'nats');
/** Load time; the CI defaults keep each run well under 90 s (the NATS run is the shorter second opinion). */
const DURATION_MS: Record<FaultTransport, number> = {
  tcp: Number(process.env['FAULT_DURATION_MS'] ?? 25_000),
  nats: Number(process.env['FAULT_DURATION_MS'] ?? 15_000),
};
const CLIENTS = 6;
const KEYS = ['faults/a', 'faults/b', 'faults/c'] as const;
/** Below this many acknowledged writes the history proves too little. */
const MIN_ACKNOWLEDGED_WRITES = 50;

/**
 * One fault at a time, chosen by `random`: SIGKILL and restart, or SIGSTOP and SIGCONT, of a
 * random member or of the current leader; over NATS also SIGKILL and restart of the nats-server
 * every member goes through. Never more than one member down, so a quorum remains except while a
 * restarted member catches up (or while the nats-server is down: then no one hears anyone).
 */
async function nemesis(
  cluster: ProcessCluster,
  random: SeededRandom,
  until: number,
  faults: FaultLog,
  aborted: () => boolean,
  t0: number,
  natsServer?: NatsServerProcess,
): Promise<void> {
  const note = faultNotes(faults, t0);
  while (performance.now() < until && !aborted()) {
    await sleep(random.int(500, 2_000));
    await restartCrashed(cluster.members, faults, note);
    if (performance.now() >= until || aborted()) break;
    // Drawn only over NATS, so a TCP seed replays as it always did.
    if (natsServer !== undefined && random.chance(0.25)) {
      const downMs = random.int(200, 1_500);
      countFault(faults, 'nats-server-kill');
      note(`SIGKILL the nats-server, restart after ${downMs} ms`);
      await natsServer.kill();
      await sleep(downMs);
      await restartNatsServer(natsServer, faults, note);
      continue;
    }
    const kill = random.chance(0.5);
    const atLeader = random.chance(0.4);
    const downMs = random.int(300, 2_000);
    let target = random.pick(cluster.members);
    if (atLeader) {
      try {
        target = await cluster.leader(2_000);
      } catch {
        note('no leader found; faulting a random member instead');
      }
    }
    if (aborted()) break;
    countFault(faults, kill ? 'sigkill' : 'sigstop');
    const who = `${target.spec.name}${atLeader ? ' (leader)' : ''}`;
    if (kill) {
      note(`SIGKILL ${who}, restart after ${downMs} ms`);
      await target.kill();
      await sleep(downMs);
      if (aborted()) break;
      await restart(target, faults, note);
    } else {
      note(`SIGSTOP ${who}, SIGCONT after ${downMs} ms`);
      target.pause();
      await sleep(downMs);
      target.resume();
    }
  }
}

async function restartNatsServer(server: NatsServerProcess, faults: FaultLog, note: (line: string) => void): Promise<void> {
  try {
    await server.start();
  } catch (err) {
    faults.crashes.push(`the nats-server did not start again: ${(err as Error).message.split('\n')[0]}`);
    note('CRASH: the nats-server did not start again');
  }
}

/** The fault run over one transport (FAULT_TRANSPORT=tcp,nats chooses which run). */
function faultRun(transport: FaultTransport): void {
  const durationMs = DURATION_MS[transport];
  const title =
    transport === 'tcp'
      ? 'a 3-member cairn cluster under SIGKILL and SIGSTOP faults'
      : 'a 3-member cairn cluster over NATS under SIGKILL and SIGSTOP faults and nats-server restarts';
  describe(title, function () {
    this.timeout(durationMs + 120_000);
    let dir: string | undefined;
    let nats: NatsServers | undefined;
    let cluster: ProcessCluster | undefined;
    const clients: DeadlineKvClient[] = [];
    let aborted = false;
    let running: Promise<unknown> = Promise.resolve();

    before(async function () {
      skipWithoutEtcdctl(this, 'the nemesis finds the leader with it');
      if (transport === 'nats') skipWithoutNatsServer(this);
      dir = await mkdtemp(join(tmpdir(), `cairn-faults-${transport}-`));
    });

    after(async () => {
      // Let the nemesis and clients finish their current step first, so none restarts a member after the stop.
      aborted = true;
      await Promise.allSettled([running]);
      for (const c of clients) c.close();
      await cluster?.stop();
      await nats?.stop();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    });

    it('keeps the history of puts, linearizable reads and CAS txns linearizable', async () => {
      const replay = `cd test && FAULT_SEED=${SEED} FAULT_TRANSPORT=${transport} FAULT_DURATION_MS=${durationMs} npx mocha --no-config --timeout 300000 dist/e2e/cluster-faults.test.js`;
      console.log(`      fault seed ${SEED} (replay with FAULT_SEED=${SEED} FAULT_TRANSPORT=${transport}), load ${durationMs} ms`);
      const random = new SeededRandom(SEED);
      if (transport === 'nats') nats = await NatsServers.start(join(dir!, 'nats'));
      const natsServer = nats?.servers[0];
      cluster = await ProcessCluster.start('cairn', dir!, 3, nats === undefined ? {} : { transport: natsPeerTransport(() => nats!.urls) });
      await cluster.leader();

      const recorder = new HistoryRecorder();
      const faults = newFaultLog();
      const t0 = performance.now();
      const until = t0 + durationMs;
      for (let i = 0; i < CLIENTS; i++) clients.push(new DeadlineKvClient(cluster.members[i % cluster.members.length]!.endpoint));
      const load = clients.map((c, i) => clientLoop(recorder, c, i, random.fork(), until, KEYS));
      const work = Promise.all([nemesis(cluster, random.fork(), until, faults, () => aborted, t0, natsServer), ...load]);
      running = work;
      await work;
      const loadMs = Math.round(performance.now() - t0);

      // Heal: everything resumed and running, a leader, then one more linearizable read of each key.
      if (natsServer !== undefined && !natsServer.running) await restartNatsServer(natsServer, faults, (line) => faults.lines.push(`end ${line}`));
      for (const m of cluster.members) m.resume();
      await restartCrashed(cluster.members, faults, (line) => faults.lines.push(`end ${line}`));
      const leader = await cluster.leader(30_000);
      const finalClient = new DeadlineKvClient(leader.endpoint);
      clients.push(finalClient);
      const finalReads = await readEveryKey(recorder, finalClient, CLIENTS, KEYS);

      const checkStart = performance.now();
      const verdict = checkLinearizable(recorder.history);
      const s = recorder.stats;
      const errors = recorder.errorSummary();
      console.log(`      ${faults.lines.join('\n      ')}`);
      console.log(
        `      seed ${SEED}: ${s.ok} ops ok (${s.acknowledgedWrites} acknowledged writes), ${s.indeterminate} indeterminate, ` +
          `${s.droppedReads} failed reads and ${s.droppedUnsent} unsent writes left out; ${faults.injected} faults injected; ` +
          `checker ${Math.round(performance.now() - checkStart)} ms: ${String(verdict.ok)}`,
      );
      if (errors !== '') console.log(`      errors: ${errors}`);

      const anomalies = [
        ...(verdict.ok !== true ? [`history not linearizable (${String(verdict.ok)}) on ${verdict.key}`] : []),
        ...faults.crashes.map((c) => `cairn crashed: ${c}`),
        ...(finalReads.every((r) => r !== undefined) ? [] : ['a final read was not answered after healing']),
      ];
      const failed = anomalies[0];
      if (failed !== undefined) {
        const saved = await saveFindings({
          label: transport,
          seed: SEED,
          reason: anomalies.join('; '),
          replay,
          recorder,
          faults,
          verdict,
          members: cluster.members,
          ...(natsServer === undefined ? {} : { files: { 'nats-server.log': natsServer.log() } }),
        });
        console.log(`      ${failed}; evidence in ${saved}`);
        if (verdict.detail !== undefined) console.log(`      ${verdict.key}:\n        ${verdict.detail.join('\n        ')}`);
      }
      recordRun({
        suite: 'process-faults',
        date: new Date().toISOString(),
        seed: SEED,
        transport,
        durationMs: loadMs,
        faults: faults.byKind,
        operations: s.ok + s.indeterminate,
        acknowledgedWrites: s.acknowledgedWrites,
        indeterminate: s.indeterminate,
        lockAcquisitions: 0,
        membershipChanges: 0,
        anomalies: anomalies.length,
        anomalyDetail: anomalies,
        passed: anomalies.length === 0 && faults.injected > 0 && s.acknowledgedWrites > MIN_ACKNOWLEDGED_WRITES,
        command: replay,
      });
      expect(faults.crashes, `members crashed (seed ${SEED})`).to.deep.equal([]);
      expect(verdict.ok, `linearizable (seed ${SEED}); failing key ${verdict.key}`).to.equal(true);
      expect(
        finalReads.every((r) => r !== undefined),
        'the final read of every key is answered after healing',
      ).to.equal(true);
      expect(faults.injected, 'faults injected').to.be.greaterThan(0);
      expect(s.acknowledgedWrites, 'acknowledged writes').to.be.greaterThan(MIN_ACKNOWLEDGED_WRITES);
    });
  });
}

for (const transport of TRANSPORTS) faultRun(transport);
