import { expect } from 'chai';
import { Client, Mutex, type LockHandle } from '@cairn/client';
import { EtcdctlProcess } from '../compat/etcdctl-process.js';
import { skipWithoutEtcdctl } from '../compat/processes.js';
import { startTarget, targetMissing, type Target, type TargetKind } from './targets.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The owner key `etcdctl lock` printed (its first line). */
const ownerKey = (p: EtcdctlProcess): string => p.stdout.split('\n')[0]!.trim();

/**
 * A Cairn-client Mutex and the real `etcdctl lock` use clientv3's key layout (`<name>/<lease hex>`,
 * the lowest create revision holds), so they exclude each other in both directions.
 */
for (const kind of ['cairn-member', 'etcd'] as TargetKind[]) {
  describe(`@cairn/client Mutex and etcdctl lock exclude each other (${kind})`, function () {
    this.timeout(60_000);
    let target: Target | undefined;
    let client: Client;
    const started: EtcdctlProcess[] = [];

    before(async function () {
      skipWithoutEtcdctl(this);
      const missing = targetMissing(kind);
      if (missing !== undefined) {
        console.log(`      skipped: ${missing}`);
        this.skip();
      }
      target = await startTarget(kind);
      client = new Client({ endpoints: target.endpoints });
    });

    after(async () => {
      for (const p of started) await p.kill();
      await client?.close();
      await target?.stop();
    });

    const etcdctl = (args: string[]): EtcdctlProcess => {
      const p = EtcdctlProcess.start(target!.endpoints.join(','), args);
      started.push(p);
      return p;
    };

    it('etcdctl holds: the client waits until etcdctl is stopped by PID, then holds with a larger fencing token', async () => {
      const holder = etcdctl(['lock', 'interop-a']);
      await holder.waitFor('interop-a/');
      const session = await client.session({ ttl: 10 });
      let handle: LockHandle | undefined;
      const waiting = new Mutex(session, 'interop-a').lock().then((h) => (handle = h));
      await sleep(1500);
      expect(handle, 'the client got the lock while etcdctl held it').to.equal(undefined);
      const etcdctlToken = (await client.get(ownerKey(holder)))!.createRevision;
      await holder.stop();
      await waiting;
      expect(handle!.fencingToken > etcdctlToken).to.equal(true);
      expect(handle!.key.toString()).to.match(/^interop-a\/[0-9a-f]+$/);
      await handle!.unlock();
      await session.close();
    });

    it('etcdctl holds and is killed -9: the client gets the lock once the dead holder’s lease expires', async () => {
      const holder = etcdctl(['lock', '--ttl=2', 'interop-k']);
      await holder.waitFor('interop-k/');
      const session = await client.session({ ttl: 10 });
      let handle: LockHandle | undefined;
      const waiting = new Mutex(session, 'interop-k').lock().then((h) => (handle = h));
      await sleep(800);
      expect(handle).to.equal(undefined);
      const killedAt = Date.now();
      await holder.kill();
      await waiting;
      const tookMs = Date.now() - killedAt;
      expect(tookMs, 'granted before the dead holder’s 2 s lease could expire').to.be.greaterThan(1000);
      await handle!.unlock();
      await session.close();
    });

    it('the client holds: etcdctl lock waits until the client unlocks', async () => {
      const session = await client.session({ ttl: 10 });
      const handle = await new Mutex(session, 'interop-b').lock();
      const waiter = etcdctl(['lock', 'interop-b']);
      await sleep(1500);
      expect(waiter.stdout, 'etcdctl printed its key while the client held the lock').to.equal('');
      expect(waiter.running).to.equal(true);
      await handle.unlock();
      await waiter.waitFor('interop-b/');
      expect(ownerKey(waiter)).to.not.equal(handle.key.toString());
      const etcdctlToken = (await client.get(ownerKey(waiter)))!.createRevision;
      expect(etcdctlToken > handle.fencingToken).to.equal(true);
      await waiter.stop();
      await session.close();
    });
  });
}
