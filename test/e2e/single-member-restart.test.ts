import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loopbackPortOpen } from '@cairn/core/testkit';
import { RawEtcdClient } from '../compat/raw-kv-client.js';
import { initialCluster, MemberProcess, memberArgs, memberSpecs } from './cluster-processes.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The `time` (ms since the epoch) of the last log line with message `msg`. */
function lastLogTime(log: string, msg: string): number | undefined {
  let time: number | undefined;
  for (const line of log.split('\n')) {
    if (!line.startsWith('{') || !line.includes(`"msg":"${msg}"`)) continue;
    time = (JSON.parse(line) as { time: number }).time;
  }
  return time;
}

/** Linearizable Range calls (a fresh connection each, so no reconnect backoff hides anything) until one answers. */
async function firstLinearizableRead(endpoint: string, port: number, deadline: number): Promise<{ at: number; value: string }> {
  while (!(await loopbackPortOpen(port))) {
    if (Date.now() > deadline) throw new Error('the member never opened its client port');
    await sleep(2);
  }
  for (;;) {
    const client = new RawEtcdClient(endpoint);
    try {
      const r = await client.call('kv', 'Range', { key: Buffer.from('solo-key') });
      const kvs = r['kvs'] as { value: Buffer }[];
      return { at: Date.now(), value: kvs[0]?.value.toString() ?? '' };
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(2);
    } finally {
      client.close();
    }
  }
}

/**
 * A lone member elects itself at once when it starts (there is nobody to wait for): its first
 * linearizable read, at its first start as after a restart, must not wait anything like an
 * election timeout. The election timeout here is 10 s, so a member that waited one would miss the
 * bound (a fifth of it, for a loaded CI machine) by far.
 */
describe('a single member restarted serves at once (real process)', function () {
  this.timeout(60_000);
  let dir: string;
  let member: MemberProcess | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-solo-'));
  });

  after(async () => {
    await member?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('its first linearizable read, at its first start and after each restart, comes well within an election timeout of its Raft node starting', async () => {
    const [spec] = await memberSpecs(dir, ['solo']);
    const electionMs = 10_000;
    const args = memberArgs('cairn', spec!, initialCluster([spec!]), 'new', { heartbeatMs: 500, electionMs });
    member = new MemberProcess('cairn', spec!, () => args);
    // Load the client's gRPC definitions now, so the figures below do not count them.
    new RawEtcdClient(member.endpoint).close();

    for (let start = 0; start < 4; start++) {
      await member.stop();
      const execAt = Date.now();
      await member.start([], false);
      const read = await firstLinearizableRead(member.endpoint, spec!.clientPort, execAt + 30_000);
      // The first start finds nothing (and its bootstrap membership entries not yet applied); the restarts find the key.
      if (start === 0) {
        expect(read.value).to.equal('');
        const put = await member.etcdctl(['put', 'solo-key', 'kept']);
        expect(put.code, put.stderr).to.equal(0);
      } else {
        expect(read.value).to.equal('kept');
      }
      const raftStartedAt = lastLogTime(member.log(), 'raft node started');
      const readyAt = lastLogTime(member.log(), 'member ready to serve clients');
      const ledAt = lastLogTime(member.log(), 'became leader');
      expect(raftStartedAt, member.log().slice(-3000)).to.be.a('number');
      const sinceRaft = read.at - raftStartedAt!;
      console.log(
        `      ${start === 0 ? 'first start' : `restart ${start}`}: exec→raft start ${raftStartedAt! - execAt} ms, raft start→leader ${ledAt! - raftStartedAt!} ms, ` +
          `exec→ready ${readyAt! - execAt} ms, exec→first read ${read.at - execAt} ms, raft start→first read ${sinceRaft} ms`,
      );
      expect(sinceRaft, 'raft start → first linearizable read').to.be.below(electionMs / 5);
    }
  });
});
