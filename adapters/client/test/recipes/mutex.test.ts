import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Client, Compare, DeadlineExceededError, Mutex, Op, SessionLostError } from '../../src/index.js';
import { InterposedChannel } from '../interposed-channel.js';
import { freshPrefix, describeOnEachServer, rejectionOf, settlesWithin, sleep } from './recipe-test-kit.js';

describeOnEachServer('recipes: Mutex', (kit) => {
  it("uses clientv3's layout: <prefix>/<lease hex>, fencing token = the key's create revision", async () => {
    const prefix = freshPrefix('layout');
    const session = await kit.session();
    const handle = await new Mutex(session, prefix).lock();
    expect(handle.key.toString()).to.equal(`${prefix}/${session.lease.toString(16)}`);
    const kv = await kit.client.get(handle.key);
    expect(kv?.createRevision).to.equal(handle.fencingToken);
    expect(kv?.lease).to.equal(session.lease);
    expect(handle.header.revision >= handle.fencingToken).to.equal(true);
    await handle.unlock();
    expect(await kit.client.get(handle.key)).to.equal(undefined);
  });

  it('excludes holders under contention of several sessions; tokens grow with each grant', async () => {
    const prefix = freshPrefix('contention');
    const sessions = await Promise.all([1, 2, 3, 4, 5].map(() => kit.session()));
    let inside = 0;
    let maxInside = 0;
    const tokens: bigint[] = [];
    await Promise.all(
      sessions.map(async (session) => {
        const mutex = new Mutex(session, prefix);
        for (let round = 0; round < 3; round++) {
          await mutex.withLock(async (_signal, handle) => {
            inside++;
            maxInside = Math.max(maxInside, inside);
            tokens.push(handle.fencingToken);
            await sleep(5);
            inside--;
          });
        }
      }),
    );
    expect(maxInside).to.equal(1);
    expect(tokens).to.have.length(15);
    expect(tokens).to.deep.equal([...tokens].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(new Set(tokens).size).to.equal(15);
  });

  it('tryLock takes a free lock and leaves no key behind when it is held', async () => {
    const prefix = freshPrefix('try');
    const [a, b] = [await kit.session(), await kit.session()];
    const held = await new Mutex(a, prefix).tryLock();
    expect(held).to.not.equal(undefined);
    expect(await new Mutex(b, prefix).tryLock()).to.equal(undefined);
    expect((await kit.client.range(`${prefix}/`, { prefix: true })).kvs).to.have.length(1);
    await held!.unlock();
    expect(await new Mutex(b, prefix).tryLock()).to.not.equal(undefined);
  });

  it('a waiting lock gives up on abort and on timeout, removing its key', async () => {
    const prefix = freshPrefix('abort');
    const [a, b] = [await kit.session(), await kit.session()];
    await new Mutex(a, prefix).lock();
    const controller = new AbortController();
    const waiting = rejectionOf(new Mutex(b, prefix).lock({ signal: controller.signal }));
    await sleep(100);
    controller.abort(new Error('caller gave up'));
    expect(((await waiting) as Error).message).to.equal('caller gave up');
    expect(await rejectionOf(new Mutex(b, prefix).lock({ timeoutMs: 150 }))).to.be.instanceOf(DeadlineExceededError);
    await sleep(50);
    const keys = (await kit.client.range(`${prefix}/`, { prefix: true })).kvs.map((kv) => kv.key.toString());
    expect(keys).to.deep.equal([`${prefix}/${a.lease.toString(16)}`]);
  });

  it('a waiter whose session is lost fails with SessionLostError and never gets the lock', async () => {
    const prefix = freshPrefix('waiter-lost');
    const [a, b] = [await kit.session(), await kit.session()];
    const held = await new Mutex(a, prefix).lock();
    const waiting = rejectionOf(new Mutex(b, prefix).lock());
    await sleep(100);
    await b.close();
    expect(await waiting).to.be.instanceOf(SessionLostError);
    await held.unlock();
  });

  it('a waiter whose lease is revoked elsewhere fails with SessionLostError', async () => {
    const prefix = freshPrefix('waiter-revoked');
    const a = await kit.session();
    const b = await kit.session(2);
    await new Mutex(a, prefix).lock();
    const waiting = rejectionOf(new Mutex(b, prefix).lock());
    await sleep(100);
    await kit.newClient().lease.revoke(b.lease);
    expect(await waiting).to.be.instanceOf(SessionLostError);
  });

  it("withLock aborts fn's signal when the holder's lease is lost, and the next waiter is granted", async () => {
    const prefix = freshPrefix('holder-lost');
    const holder = await kit.session(2);
    const next = await kit.session();
    let reason: unknown;
    let firstToken = 0n;
    const holding = new Mutex(holder, prefix).withLock(async (signal, handle) => {
      firstToken = handle.fencingToken;
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      reason = signal.reason;
      return 'done';
    });
    await sleep(100);
    const waiting = new Mutex(next, prefix).lock();
    expect(await settlesWithin(waiting, 200)).to.equal(false);
    await kit.newClient().lease.revoke(holder.lease);
    expect(await holding).to.equal('done');
    expect(reason).to.be.instanceOf(SessionLostError);
    const granted = await waiting;
    expect(granted.fencingToken > firstToken).to.equal(true);
  });

  it("isOwner() fences writes: a stale holder's guarded txn fails once another holds the lock", async () => {
    const prefix = freshPrefix('fence');
    const [a, b] = [await kit.session(), await kit.session()];
    const first = await new Mutex(a, prefix).lock();
    const guarded = () =>
      kit.client
        .txn()
        .if(first.isOwner())
        .then(Op.put(`${prefix}-data`, 'from a'))
        .commit();
    expect((await guarded()).succeeded).to.equal(true);
    await kit.client.lease.revoke(a.lease);
    const second = await new Mutex(b, prefix).lock();
    expect((await guarded()).succeeded).to.equal(false);
    expect(
      (
        await kit.client
          .txn()
          .if(second.isOwner(), Compare.version(`${prefix}-data`, '>', 0n))
          .then()
          .commit()
      ).succeeded,
    ).to.equal(true);
  });

  it("excludes and is excluded by the server's Lock RPC on the same name", async () => {
    const prefix = freshPrefix('server-lock');
    const [a, b] = [await kit.session(), await kit.session()];
    const server = await kit.client.raw.unary<{ key: Uint8Array }>('Lock', 'Lock', { name: Buffer.from(prefix), lease: a.lease.toString() });
    expect(Buffer.from(server.key).toString()).to.equal(`${prefix}/${a.lease.toString(16)}`);
    const mine = new Mutex(b, prefix).lock();
    expect(await settlesWithin(mine, 300)).to.equal(false);
    await kit.client.raw.unary('Lock', 'Unlock', { key: server.key });
    const handle = await mine;
    const serverWaiting = kit.client.raw.unary('Lock', 'Lock', { name: Buffer.from(prefix), lease: a.lease.toString() });
    expect(await settlesWithin(serverWaiting, 300)).to.equal(false);
    await handle.unlock();
    await serverWaiting;
  });

  it('withLock releases the lock when fn throws', async () => {
    const prefix = freshPrefix('throws');
    const session = await kit.session();
    const mutex = new Mutex(session, prefix);
    const failure = await rejectionOf(
      mutex.withLock(async () => {
        throw new Error('fn failed');
      }),
    );
    expect((failure as Error).message).to.equal('fn failed');
    expect((await kit.client.range(`${prefix}/`, { prefix: true })).count).to.equal(0n);
  });

  it('a holder cut off from the cluster learns it lost the lock before another session is granted it', async () => {
    const prefix = freshPrefix('partition');
    const channel: { current?: InterposedChannel } = {};
    const cutOff = new Client({ endpoints: [kit.endpoint], channel: (endpoint) => (channel.current = new InterposedChannel(endpoint)) });
    try {
      const holder = await cutOff.session({ ttl: 2 });
      const other = await kit.session();
      let lostAt = 0;
      let reason: unknown;
      const holding = new Mutex(holder, prefix).withLock(async (signal) => {
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        lostAt = Date.now();
        reason = signal.reason;
      });
      await sleep(200);
      const waiting = new Mutex(other, prefix).lock().then((handle) => ({ handle, at: Date.now() }));
      channel.current!.blackhole = true; // as a paused member or a partition: nothing answers
      const granted = await waiting;
      await holding;
      expect(reason).to.be.instanceOf(SessionLostError);
      expect(lostAt).to.be.greaterThan(0);
      expect(lostAt <= granted.at, `holder told ${lostAt - granted.at} ms after the other was granted`).to.equal(true);
      await granted.handle.unlock();
    } finally {
      await cutOff.close();
    }
  });

  it('a waiter cut off from the cluster fails with SessionLostError within its TTL, without waiting for cleanup', async () => {
    const prefix = freshPrefix('waiter-cut-off');
    const channel: { current?: InterposedChannel } = {};
    const cutOff = new Client({ endpoints: [kit.endpoint], channel: (endpoint) => (channel.current = new InterposedChannel(endpoint)) });
    try {
      const holder = await kit.session();
      await new Mutex(holder, prefix).lock();
      const waiter = await cutOff.session({ ttl: 2 });
      const waiting = rejectionOf(new Mutex(waiter, prefix).lock());
      await sleep(200);
      channel.current!.blackhole = true;
      const silencedAt = Date.now();
      expect(await waiting).to.be.instanceOf(SessionLostError);
      expect(Date.now() - silencedAt).to.be.below(2_000 + 500);
    } finally {
      await cutOff.close();
    }
  });

  it('excludes and is excluded by `etcdctl lock` on the same name', async function () {
    if (!existsSync(ETCDCTL)) {
      console.log(`      (skipped: ${ETCDCTL} is not installed)`);
      this.skip();
    }
    const prefix = freshPrefix('etcdctl');
    const session = await kit.session();
    const first = new EtcdctlLock(kit.endpoint, prefix);
    try {
      await first.held;
      const mine = new Mutex(session, prefix).lock();
      expect(await settlesWithin(mine, 500)).to.equal(false);
      await first.stop();
      const handle = await mine;
      const second = new EtcdctlLock(kit.endpoint, prefix);
      try {
        expect(await settlesWithin(second.held, 700)).to.equal(false);
        await handle.unlock();
        const key = await second.held;
        expect(key.startsWith(`${prefix}/`)).to.equal(true);
      } finally {
        await second.stop();
      }
    } finally {
      await first.stop();
    }
  });
});

const ETCDCTL = '/usr/bin/etcdctl';

/** `etcdctl lock <name>` in a child process: `held` resolves with the key it prints once it holds the lock. */
class EtcdctlLock {
  readonly held: Promise<string>;
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;

  constructor(endpoint: string, name: string) {
    this.child = spawn(ETCDCTL, [`--endpoints=${endpoint}`, 'lock', name], { env: { ...process.env, ETCDCTL_API: '3' }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.held = new Promise((resolve, reject) => {
      let out = '';
      this.child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split('\n')[0];
        if (out.includes('\n') && line !== undefined) resolve(line);
      });
      this.child.once('exit', (code) => reject(new Error(`etcdctl lock exited (${code}) before holding the lock`)));
    });
    this.held.catch(() => undefined);
  }

  /** SIGTERM (etcdctl unlocks on it) and wait for the exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined) process.kill(this.child.pid, 'SIGTERM');
    await this.exited;
  }
}
