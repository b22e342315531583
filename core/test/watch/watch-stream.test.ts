import { expect } from 'chai';
import { MvccStore } from '../../src/mvcc/mvcc-store.js';
import { WatchHub } from '../../src/mvcc/watch-hub.js';
import { WATCH_DUPLICATE_ID, WATCH_RANGE_EMPTY, WatchStream } from '../../src/mvcc/watch-stream.js';
import { SystemClock } from '../../src/ports/system-clock.js';
import { ImmediateDeferral } from '../../src/ports/system-deferral.js';
import { MemoryBackend } from '../../src/memory/memory-backend.js';

const header = (revision: number) => ({ clusterId: 1n, memberId: 2n, revision, raftTerm: 1 });
const b = (s: string): Uint8Array => Buffer.from(s, 'latin1');

async function setup() {
  const store = await MvccStore.open(new MemoryBackend(), { header });
  const hub = new WatchHub(store, new SystemClock(), new ImmediateDeferral());
  const stream = new WatchStream(hub, header, () => store.currentRevision);
  let index = 0;
  const put = async (k: string) => {
    await store.put(++index, { key: b(k), value: b('v') });
  };
  return { store, hub, stream, put };
}

describe('watch stream', () => {
  it("assigns IDs from 0, takes a client ID, and refuses a duplicate or an empty range with etcd's reasons", async () => {
    const { stream, hub, put } = await setup();
    await put('x');
    const first = stream.create({ key: b('a') });
    expect(first.response).to.include({ watchId: 0, created: true, canceled: false });
    expect(first.response.header.revision).to.equal(2);
    expect(stream.create({ key: b('a'), watchId: 7 }).response.watchId).to.equal(7);
    expect(stream.create({ key: b('a') }).response.watchId).to.equal(1);
    const duplicate = stream.create({ key: b('a'), watchId: 7 });
    expect(duplicate.watch).to.equal(undefined);
    expect(duplicate.response).to.include({ watchId: -1, created: true, canceled: true, cancelReason: WATCH_DUPLICATE_ID });
    expect(WATCH_DUPLICATE_ID).to.equal('mvcc: duplicate watch ID provided on the WatchStream');
    const empty = stream.create({ key: b('b'), rangeEnd: b('a') });
    expect(empty.response).to.include({ watchId: -1, created: true, canceled: true, cancelReason: 'mvcc: watcher range is empty' });
    expect(WATCH_RANGE_EMPTY).to.equal('mvcc: watcher range is empty');
    hub.close();
  });

  it("cancels a watch with a canceled response, ignores an unknown ID, and ends the watch's deliveries", async () => {
    const { stream, hub } = await setup();
    const created = stream.create({ key: b('a') });
    const pending = created.watch!.next();
    expect(stream.cancel(0)).to.include({ watchId: 0, canceled: true, created: false });
    expect(await pending).to.equal(undefined);
    expect(stream.cancel(0)).to.equal(undefined);
    expect(stream.cancel(99)).to.equal(undefined);
    hub.close();
  });

  it('answers a progress request with watch_id -1 and a revision every watch has been sent up to', async () => {
    const { stream, hub, put } = await setup();
    expect(stream.progress()).to.include({ watchId: -1 });
    const w = stream.create({ key: b('a') }).watch!;
    await put('b');
    expect(stream.progress().header.revision).to.equal(2);
    await put('a');
    // The event at 3 is not yet sent: progress may not claim it.
    expect(stream.progress().header.revision).to.equal(2);
    const r = await w.next();
    expect(r!.events.map((e) => e.kv.modRevision)).to.deep.equal([3]);
    expect(stream.progress().header.revision).to.equal(3);
    stream.close();
    hub.close();
  });
});
