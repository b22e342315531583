import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { processAlive, runCommand, type CommandResult } from '@cairn/core/testkit';

const ETCDCTL = '/usr/bin/etcdctl';
const NATS_SERVER = '/usr/sbin/nats-server';
/** dist/test → the example's directory, where run.sh is. */
const runScript = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), 'run.sh');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

for (const variant of ['one nats-server', 'three routed nats-servers'] as const) {
  describe(`examples/nats-cluster: run.sh start${variant === 'one nats-server' ? '' : ' --nats-cluster'} (${variant}), then run.sh stop`, function () {
    this.timeout(90_000);
    let dir = '';
    let endpoints: string[] = [];
    let pids: number[] = [];
    // The built command loads built plugins, as an operator's would: no `source` condition.
    const env = { ...process.env, NODE_OPTIONS: (process.env['NODE_OPTIONS'] ?? '').replace(/(--conditions|-C)[= ]source\b/g, '').trim(), ETCDCTL_API: '3' };
    const etcdctl = (endpoint: string, args: readonly string[]): Promise<CommandResult> =>
      runCommand(ETCDCTL, [`--endpoints=${endpoint}`, '--dial-timeout=2s', '--command-timeout=5s', ...args], env);

    before(async function () {
      for (const tool of [ETCDCTL, NATS_SERVER]) {
        if (!existsSync(tool)) {
          console.log(`      skipped: ${tool} is not installed (apt-get install etcd-client nats-server)`);
          this.skip();
        }
      }
      dir = await mkdtemp(join(tmpdir(), 'cairn-nats-example-'));
      const started = await runCommand(runScript, ['start', dir, ...(variant === 'one nats-server' ? [] : ['--nats-cluster'])], env);
      pids = (await readFile(join(dir, 'pids'), 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number);
      if (started.code !== 0) throw new Error(`run.sh start failed (${started.code}):\n${started.stdout}${started.stderr}`);
      endpoints = (await readFile(join(dir, 'endpoints'), 'utf8')).trim().split(',');
      expect(started.stdout).to.contain(`ENDPOINTS=${endpoints.join(',')}`);
    });

    after(async function () {
      if (dir === '') return;
      await runCommand(runScript, ['stop', dir], env);
      // Should run.sh stop have failed, the processes still go: by the PIDs run.sh wrote.
      for (const pid of pids) if (processAlive(pid)) process.kill(pid, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    });

    it('wrote one PID per process and three client endpoints', () => {
      expect(pids).to.have.length(variant === 'one nats-server' ? 4 : 6);
      expect(pids.every(processAlive)).to.equal(true);
      expect(endpoints).to.have.length(3);
    });

    it('a put on one member is read on the others, all agree on one leader, and members list nats:// peer URLs', async () => {
      // The members serve before they have elected a leader: retry the first write for a while.
      const deadline = Date.now() + 20_000;
      let put = await etcdctl(endpoints[0]!, ['put', 'greeting', 'hello over nats']);
      while (put.code !== 0 && Date.now() < deadline) {
        await sleep(200);
        put = await etcdctl(endpoints[0]!, ['put', 'greeting', 'hello over nats']);
      }
      expect(put.code, put.stderr).to.equal(0);
      for (const endpoint of endpoints.slice(1)) {
        const got = await etcdctl(endpoint, ['get', 'greeting', '--print-value-only']);
        expect(got.stdout.trim(), `get on ${endpoint}: ${got.stderr}`).to.equal('hello over nats');
      }
      const status = await etcdctl(endpoints.join(','), ['endpoint', 'status', '-w', 'json']);
      expect(status.code, status.stderr).to.equal(0);
      const leaders = new Set([...status.stdout.matchAll(/"leader":(\d+)/g)].map((m) => m[1]));
      expect(leaders.size, status.stdout).to.equal(1);
      const list = await etcdctl(endpoints[1]!, ['member', 'list']);
      for (const name of ['n1', 'n2', 'n3']) expect(list.stdout).to.contain(`, ${name}, nats://${name}, `);
    });

    it('run.sh stop stops every process it started', async () => {
      const stopped = await runCommand(runScript, ['stop', dir], env);
      expect(stopped.code, stopped.stderr).to.equal(0);
      const deadline = Date.now() + 5_000;
      while (pids.some(processAlive) && Date.now() < deadline) await sleep(100);
      expect(pids.filter(processAlive), 'processes still running').to.deep.equal([]);
    });
  });
}
