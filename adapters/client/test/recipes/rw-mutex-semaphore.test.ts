import { expect } from 'chai';
import { RwMutex, Semaphore, SessionLostError } from '../../src/index.js';
import { freshPrefix, describeOnEachServer, rejectionOf, settlesWithin, sleep } from './recipe-test-kit.js';

describeOnEachServer('recipes: RwMutex and Semaphore', (kit) => {
  it('RwMutex: readers share, a writer is alone, and a later reader waits behind a waiting writer', async () => {
    const prefix = freshPrefix('rw');
    const [r1, r2, w, r3] = [await kit.session(), await kit.session(), await kit.session(), await kit.session()];
    const read1 = await new RwMutex(r1, prefix).readLock();
    const read2 = await new RwMutex(r2, prefix).readLock();
    expect(read1.key.toString()).to.match(new RegExp(`^${prefix}/read/`));
    const writing = new RwMutex(w, prefix).writeLock();
    expect(await settlesWithin(writing, 200)).to.equal(false);
    const lateReader = new RwMutex(r3, prefix).readLock();
    expect(await settlesWithin(lateReader, 200)).to.equal(false);
    await read1.unlock();
    expect(await settlesWithin(writing, 200)).to.equal(false);
    await read2.unlock();
    const write = await writing;
    expect(write.key.toString()).to.match(new RegExp(`^${prefix}/write/`));
    expect(await settlesWithin(lateReader, 200)).to.equal(false);
    expect(await new RwMutex(r1, prefix).tryReadLock()).to.equal(undefined);
    await write.unlock();
    const read3 = await lateReader;
    expect(read3.fencingToken > write.fencingToken).to.equal(true);
    expect(await new RwMutex(r1, prefix).tryReadLock()).to.not.equal(undefined);
    expect(await new RwMutex(w, prefix).tryWriteLock()).to.equal(undefined);
  });

  it('RwMutex: a waiting writer whose session is lost fails with SessionLostError and leaves no key', async () => {
    const prefix = freshPrefix('rw-lost');
    const [r, w] = [await kit.session(), await kit.session()];
    await new RwMutex(r, prefix).readLock();
    const writing = rejectionOf(new RwMutex(w, prefix).writeLock());
    await sleep(100);
    await w.close();
    expect(await writing).to.be.instanceOf(SessionLostError);
    expect((await kit.client.range(`${prefix}/write/`, { prefix: true })).count).to.equal(0n);
  });

  it('Semaphore: never more than `permits` holders under contention, first come first served', async () => {
    const prefix = freshPrefix('sem');
    const sessions = await Promise.all([1, 2, 3, 4, 5, 6].map(() => kit.session()));
    let inside = 0;
    let maxInside = 0;
    let done = 0;
    await Promise.all(
      sessions.map(async (session) => {
        const semaphore = new Semaphore(session, prefix, 2);
        for (let round = 0; round < 2; round++) {
          const permit = await semaphore.acquire();
          inside++;
          maxInside = Math.max(maxInside, inside);
          await sleep(20);
          inside--;
          await permit.release();
          done++;
        }
      }),
    );
    expect(done).to.equal(12);
    expect(maxInside).to.equal(2);
  });

  it('Semaphore: tryAcquire when full, release frees a place, a lost holder frees its permit', async () => {
    const prefix = freshPrefix('sem-loss');
    const [a, b, c] = [await kit.session(), await kit.session(2), await kit.session()];
    const pa = await new Semaphore(a, prefix, 2).acquire();
    await new Semaphore(b, prefix, 2).acquire();
    expect(await new Semaphore(c, prefix, 2).tryAcquire()).to.equal(undefined);
    expect(await kit.client.range(`${prefix}/`, { prefix: true, countOnly: true }).then((r) => r.count)).to.equal(2n);
    const waiting = new Semaphore(c, prefix, 2).acquire();
    expect(await settlesWithin(waiting, 200)).to.equal(false);
    await kit.newClient().lease.revoke(b.lease);
    const pc = await waiting;
    expect(pc.fencingToken > pa.fencingToken).to.equal(true);
    const waitingAgain = rejectionOf(new Semaphore(b, prefix, 2).acquire());
    expect(await waitingAgain).to.be.instanceOf(SessionLostError);
  });
});
