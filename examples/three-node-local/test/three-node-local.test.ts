import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { freeLoopbackPort, processAlive, runCommand, type CommandResult } from '@cairn/core/testkit';

const ETCDCTL = '/usr/bin/etcdctl';
const MEMBERS = ['n1', 'n2', 'n3'] as const;
/** dist/test → the example's directory, where start.sh and stop.sh are. */
const exampleDirectory = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('examples/three-node-local: start.sh starts three members that form one cluster, stop.sh stops them', function () {
  this.timeout(60_000);
  let dir = '';
  let env: NodeJS.ProcessEnv = {};
  let endpoints: string[] = [];
  let pids: number[] = [];

  const etcdctl = (endpoint: string, args: readonly string[]): Promise<CommandResult> =>
    runCommand(ETCDCTL, [`--endpoints=${endpoint}`, '--dial-timeout=2s', '--command-timeout=5s', ...args], env);

  before(async function () {
    if (!existsSync(ETCDCTL)) {
      console.log(`      skipped: ${ETCDCTL} is not installed (apt-get install etcd-client)`);
      this.skip();
    }
    dir = await mkdtemp(join(tmpdir(), 'cairn-three-node-local-'));
    const ports: number[] = [];
    for (let i = 0; i < 6; i++) ports.push(await freeLoopbackPort());
    const clientPorts = ports.slice(0, 3);
    endpoints = clientPorts.map((p) => `127.0.0.1:${p}`);
    // The built command loads built plugins, as an operator's would: no `source` condition.
    const nodeOptions = (process.env['NODE_OPTIONS'] ?? '').replace(/(--conditions|-C)[= ]source\b/g, '').trim();
    env = {
      ...process.env,
      NODE_OPTIONS: nodeOptions,
      ETCDCTL_API: '3',
      CLUSTER_DIR: dir,
      CLIENT_PORTS: clientPorts.join(' '),
      PEER_PORTS: ports.slice(3).join(' '),
    };
    const started = await runCommand(join(exampleDirectory, 'start.sh'), [], env);
    if (started.code !== 0) throw new Error(`start.sh failed (${started.code}):\n${started.stdout}${started.stderr}`);
    expect(started.stdout).to.contain(`ENDPOINTS=${endpoints.join(',')}`);
    pids = await Promise.all(MEMBERS.map(async (m) => Number(await readFile(join(dir, 'run', `${m}.pid`), 'utf8'))));
  });

  after(async function () {
    if (dir === '') return;
    await runCommand(join(exampleDirectory, 'stop.sh'), [], env);
    // Should stop.sh have failed, the members still go: by the PIDs start.sh wrote.
    for (const pid of pids) if (processAlive(pid)) process.kill(pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('a put on one member is read back from the other two, and all three agree on one leader', async function () {
    // The members serve before they have elected a leader: retry the first write for a while.
    const deadline = Date.now() + 15_000;
    let put = await etcdctl(endpoints[0]!, ['put', 'greeting', 'hello']);
    while (put.code !== 0 && Date.now() < deadline) {
      await sleep(200);
      put = await etcdctl(endpoints[0]!, ['put', 'greeting', 'hello']);
    }
    expect(put.code, put.stderr).to.equal(0);
    for (const endpoint of endpoints.slice(1)) {
      const got = await etcdctl(endpoint, ['get', 'greeting', '--print-value-only']);
      expect(got.code, got.stderr).to.equal(0);
      expect(got.stdout.trim(), `get on ${endpoint}`).to.equal('hello');
    }
    const status = await etcdctl(endpoints.join(','), ['endpoint', 'status', '-w', 'json']);
    expect(status.code, status.stderr).to.equal(0);
    // IDs are uint64: compare the digits, JSON.parse would round them.
    const leaders = new Set([...status.stdout.matchAll(/"leader":(\d+)/g)].map((m) => m[1]));
    const members = [...status.stdout.matchAll(/"member_id":(\d+)/g)].map((m) => m[1]);
    expect(leaders.size, status.stdout).to.equal(1);
    expect(members, status.stdout).to.include([...leaders][0]);
  });

  it('every member lists the same three members, each with its peer and client URL', async function () {
    // Each member publishes its client URLs through Raft once it serves, as etcd's do, and each
    // answers member list from what it has applied (etcd 3.4 too): wait until every one shows them.
    const deadline = Date.now() + 10_000;
    for (const endpoint of endpoints) {
      while (Date.now() < deadline) {
        const r = await etcdctl(endpoint, ['member', 'list']);
        if (r.code === 0 && !/, , /.test(r.stdout)) break;
        await sleep(200);
      }
    }
    const lists: string[] = [];
    for (const endpoint of endpoints) {
      const r = await etcdctl(endpoint, ['member', 'list']);
      expect(r.code, r.stderr).to.equal(0);
      lists.push(r.stdout);
      // "ID, started, NAME, PEER URLS, CLIENT URLS, IS LEARNER"
      const rows = r.stdout
        .trim()
        .split('\n')
        .map((line) => line.split(', '))
        .sort((a, b) => a[2]!.localeCompare(b[2]!));
      expect(
        rows.map((row) => row[2]),
        `member list on ${endpoint}`,
      ).to.deep.equal([...MEMBERS]);
      expect(
        rows.map((row) => row[4]),
        `client URLs in member list on ${endpoint}`,
      ).to.deep.equal(endpoints.map((e) => `http://${e}`));
    }
    expect(lists[1]).to.equal(lists[0]);
    expect(lists[2]).to.equal(lists[0]);
  });

  it('stop.sh stops every member by its PID', async function () {
    const stopped = await runCommand(join(exampleDirectory, 'stop.sh'), [], env);
    expect(stopped.code, stopped.stderr).to.equal(0);
    for (const [i, pid] of pids.entries()) expect(processAlive(pid), `${MEMBERS[i]} (pid ${pid}) still runs`).to.equal(false);
    expect(existsSync(join(dir, 'run', 'n1.pid'))).to.equal(false);
  });
});
