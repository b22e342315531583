import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Mutex, type WatchEvent } from '@cairn/client';
import { RawEtcdClient } from '../compat/raw-kv-client.js';
import { ETCDCTL_BIN } from '../compat/processes.js';
import { ProcessCluster, type MemberProcess } from '../e2e/cluster-processes.js';
import { etcdctlHistory } from './etcdctl-watch-reference.js';
import { overlappingSections, revisionSequenceProblems, type Section, type SeenEvent } from './history-checks.js';
import type { SectionReport, WorkerConfig } from './mutex-worker.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const here = dirname(fileURLToPath(import.meta.url));
const WORKER = join(here, 'mutex-worker.js');

/** Kill -9 every member in turn, the leader first, each down for `downMs`, then restarted on its data dir. */
async function killEachInTurn(cluster: ProcessCluster, downMs: number, log: string[]): Promise<void> {
  const leader = await cluster.leader();
  const order: MemberProcess[] = [leader, ...cluster.members.filter((m) => m !== leader)];
  for (const member of order) {
    await member.kill();
    log.push(`${new Date().toISOString()} killed ${member.spec.name}${member === leader ? ' (leader)' : ''}`);
    await sleep(downMs);
    await member.start();
    log.push(`${new Date().toISOString()} restarted ${member.spec.name}`);
    await cluster.leader();
    await sleep(500);
  }
}

/**
 * Faults with real processes on a 3-member Cairn cluster: members killed -9 and restarted (the
 * leader and the others in turn) under a watcher, under fenced mutex holders in several processes,
 * and a member paused past a session's TTL.
 */
describe('@cairn/client under member faults (3 real Cairn processes)', function () {
  this.timeout(120_000);
  let dir: string;
  let cluster: ProcessCluster;
  const clients: Client[] = [];
  const connect = (endpoints: string[]): Client => {
    const c = new Client({ endpoints, callTimeoutMs: 5000 });
    clients.push(c);
    return c;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-client-faults-'));
    cluster = await ProcessCluster.start('cairn', dir, 3);
    await cluster.leader();
  });

  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await cluster?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  afterEach(async function () {
    // A failed test leaves members down or paused: bring them back for the next one.
    for (const m of cluster.members) {
      m.resume();
      if (!m.running) await m.start();
    }
    if (this.currentTest?.state === 'failed') for (const m of cluster.members) console.log(`--- ${m.spec.name} log tail:\n${m.log().slice(-3000)}`);
  });

  it('a prefix watcher delivers every event exactly once, in order, while each member is killed -9 and restarted under writes', async () => {
    const endpoints = cluster.members.map((m) => m.endpoint);
    const watcher = connect(endpoints);
    const writer = connect(endpoints);
    const watch = watcher.watch('fw/', { prefix: true });
    const startedAfter = await watch.ready;
    const seen: SeenEvent[] = [];
    const consumed = (async () => {
      for await (const e of watch as AsyncIterable<WatchEvent>) {
        seen.push({ type: e.type, key: e.kv.key.toString(), value: e.type === 'put' ? e.kv.value.toString() : '', revision: e.revision });
      }
    })();

    let writing = true;
    let acknowledged = 0;
    let failedWrites = 0;
    // Four writers at once, each on its own keys, so the history is dense around every fault.
    const writes = Promise.all(
      Array.from({ length: 4 }, async (_, w) => {
        for (let i = 0; writing; i++) {
          try {
            if (i % 7 === 6) await writer.delete(`fw/w${w}/k${i % 5}`);
            else await writer.put(`fw/w${w}/k${i % 5}`, `v${i}`);
            acknowledged++;
          } catch {
            failedWrites++;
            await sleep(50);
          }
        }
      }),
    );
    const faults: string[] = [];
    await sleep(1000);
    await killEachInTurn(cluster, 1500, faults);
    await sleep(1000);
    writing = false;
    await writes;
    const last = (await writer.put('fw/end', 'end')).header.revision;

    const deadline = Date.now() + 30_000;
    while ((seen.at(-1)?.revision ?? 0n) < last && Date.now() < deadline) await sleep(50);
    watch.close();
    await consumed;
    console.log(
      `      ${seen.length} events from revision ${startedAfter + 1n} to ${last}; ${acknowledged} writes acknowledged, ${failedWrites} failed during faults\n      ${faults.join('\n      ')}`,
    );

    // 1. Only this test writes under fw/ (and nothing else writes at all): one event per revision.
    expect(revisionSequenceProblems(seen, startedAfter + 1n, last), 'gaps, duplicates or disorder').to.deep.equal([]);
    // 2. Every event is the key's state at its revision, read back by revision with a raw gRPC client.
    const raw = new RawEtcdClient(cluster.members[0]!.endpoint);
    try {
      const wrong: string[] = [];
      for (const e of seen) {
        const at = await raw.call('kv', 'Range', { key: Buffer.from(e.key), revision: String(e.revision) });
        const kv = (at['kvs'] as { value: Buffer; mod_revision: string }[])[0];
        const ok = e.type === 'put' ? kv !== undefined && String(kv.mod_revision) === String(e.revision) && kv.value.toString() === e.value : kv === undefined;
        if (!ok) wrong.push(`${e.type} ${e.key}@${e.revision}`);
      }
      expect(wrong, 'events that differ from the key history read by revision').to.deep.equal([]);
    } finally {
      raw.close();
    }
    // 3. The same history as the real etcdctl watching from the start on a healthy member.
    if (existsSync(ETCDCTL_BIN)) {
      const reference = await etcdctlHistory(cluster.members[1]!.endpoint, 'fw/', startedAfter + 1n, last);
      expect(seen).to.deep.equal(reference);
    } else console.log(`      (no etcdctl at ${ETCDCTL_BIN}: the etcdctl reference history is skipped)`);
  });

  it('a mutex contended by 4 processes while members are killed never admits two fenced writers at once', async () => {
    const endpoints = cluster.members.map((m) => m.endpoint);
    const untilMs = Date.now() + 16_000;
    const base: Omit<WorkerConfig, 'name'> = { endpoints, lockPrefix: 'mx/lock', counterKey: 'mx/counter', recordPrefix: 'mx/rec/', untilMs, ttl: 10 };
    const workers = Array.from({ length: 4 }, (_, i) => {
      const child = spawn(process.execPath, [WORKER, JSON.stringify({ ...base, name: `w${i}` })], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
      return { child, exited, output: () => out, errors: () => err };
    });
    try {
      const faults: string[] = [];
      await sleep(1500);
      await killEachInTurn(cluster, 1500, faults);
      const codes = await Promise.all(workers.map((w) => w.exited));
      expect(codes, `worker exit codes; stderr:\n${workers.map((w) => w.errors()).join('\n')}`).to.deep.equal([0, 0, 0, 0]);

      const lines = workers
        .flatMap((w) =>
          w
            .output()
            .split('\n')
            .filter((l) => l.startsWith('{')),
        )
        .map((l) => JSON.parse(l) as SectionReport | { error: string });
      const reports = lines.filter((l): l is SectionReport => 'holder' in l);
      const errors = lines.filter((l): l is { error: string } => 'error' in l).map((l) => l.error);

      const check = connect(endpoints);
      const records = await check.range('mx/rec/', { prefix: true });
      const counter = Number((await check.get('mx/counter'))?.value.toString() ?? '0');
      const recorded = new Set(records.kvs.map((kv) => kv.key.toString()));
      const reads = records.kvs.map((kv) => (JSON.parse(kv.value.toString()) as { read: number }).read).sort((a, b) => a - b);
      const wrote = reports.filter((r) => r.outcome === 'wrote');
      console.log(
        `      ${reports.length} critical sections, ${wrote.length} acknowledged fenced writes, ${records.kvs.length} in the store, counter ${counter}, ${errors.length} errors (e.g. ${errors.slice(0, 2).join(' | ')})\n      ${faults.join('\n      ')}`,
      );

      expect(wrote.length, 'the run did some work').to.be.greaterThan(10);
      // Every acknowledged write is in the store; the store holds no write nobody attempted.
      expect(wrote.filter((r) => !recorded.has(r.record)).map((r) => r.record)).to.deep.equal([]);
      // No lost update: every fenced write read the value the one before it wrote.
      expect(counter, 'counter = number of fenced writes in the store').to.equal(records.kvs.length);
      expect(reads).to.deep.equal(Array.from({ length: reads.length }, (_, i) => i));
      // Acknowledged critical sections never overlap in time.
      const sections: Section[] = reports
        .filter((r) => recorded.has(r.record))
        .map((r) => ({ holder: r.holder, token: BigInt(r.token), start: r.start, end: r.end }));
      expect(overlappingSections(sections).map(([a, b]) => `${a.holder}@${a.token} & ${b.holder}@${b.token}`)).to.deep.equal([]);
      // Fencing tokens grow from one holder to the next. A holder whose unlock failed (its member
      // was down) still owns its key, so its next lock() is granted on the same key: the same token
      // again, for the same holder, is the lock never having changed hands.
      const byStart = [...sections].sort((a, b) => a.start - b.start);
      const backwards = byStart
        .slice(1)
        .map((s, i) => [byStart[i]!, s] as const)
        .filter(([before, after]) => !(after.token > before.token || (after.token === before.token && after.holder === before.holder)))
        .map(([before, after]) => `${before.holder}@${before.token} then ${after.holder}@${after.token}`);
      expect(backwards, 'tokens increase with each new holder').to.deep.equal([]);
    } finally {
      for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.exited));
    }
  });

  it("a session whose member is paused past its TTL reports lost before another holder's lock on the same mutex is granted", async () => {
    const leader = await cluster.leader();
    const victimMember = cluster.members.find((m) => m !== leader)!;
    const others = cluster.members.filter((m) => m !== victimMember).map((m) => m.endpoint);
    const victimClient = connect([victimMember.endpoint]);
    const contenderClient = connect(others);
    const ttl = 3;
    const victim = await victimClient.session({ ttl });
    const contender = await contenderClient.session({ ttl });
    const held = await new Mutex(victim, 'mp/lock').lock();
    let lostAt: number | undefined;
    let grantedAt: number | undefined;
    let victimSignalAbortedAtGrant: boolean | undefined;
    const lost = victim.lost.then((s) => {
      lostAt = Date.now();
      return s;
    });
    const granted = new Mutex(contender, 'mp/lock').lock().then((h) => {
      grantedAt = Date.now();
      victimSignalAbortedAtGrant = victim.signal.aborted;
      return h;
    });
    await sleep(500);
    expect(grantedAt, 'the contender got the lock while the victim held it').to.equal(undefined);
    const pausedAt = Date.now();
    victimMember.pause();
    try {
      const [state, handle] = await Promise.all([lost, granted]);
      console.log(
        `      paused ${victimMember.spec.name}: victim lost (${state.reason}) after ${lostAt! - pausedAt} ms, contender granted after ${grantedAt! - pausedAt} ms (TTL ${ttl} s)`,
      );
      expect(lostAt! < grantedAt!, `lost at +${lostAt! - pausedAt} ms, granted at +${grantedAt! - pausedAt} ms`).to.equal(true);
      expect(victimSignalAbortedAtGrant).to.equal(true);
      expect(handle.fencingToken > held.fencingToken).to.equal(true);
      await handle.unlock();
    } finally {
      victimMember.resume();
    }
  });
});
