import { expect } from 'chai';
import { Container } from 'inversify';
import { MEMORY_DISK, type MemoryDisk } from '../../src/memory/memory-disk.js';
import { MemoryLogStore } from '../../src/memory/memory-log-store.js';
import { memoryPlugin } from '../../src/memory/memory-plugin.js';
import { SingleMemberTransport } from '../../src/memory/single-member-transport.js';
import { BACKEND } from '../../src/ports/backend.js';
import { LOG_STORE, type LogStore } from '../../src/ports/log-store.js';
import { SNAPSHOT_STORE } from '../../src/ports/snapshot-store.js';
import { STABLE_STORE, type StableStore } from '../../src/ports/stable-store.js';
import type { PluginContext, PortName } from '../../src/ports/plugin.js';
import { TRANSPORT } from '../../src/ports/transport.js';
import { pluginContext } from '../../src/testkit/plugin-harness.js';
import { EntryType, MessageType, type Message } from '../../src/protocol/raft-types.js';

const msg = (to: string): Message => ({
  type: MessageType.App,
  from: 'a',
  to,
  term: 1,
  logTerm: 0,
  index: 1,
  entries: [],
  commit: 0,
  reject: false,
  rejectHint: 0,
  context: new Uint8Array(0),
});
/** What the assembly tells a plugin; only `ports` matters to this one. */
const context = (ports: readonly PortName[]): PluginContext => pluginContext('/nowhere', { ports });
const handler = { onMessage: () => undefined, onSnapshot: async () => undefined };
async function* empty(): AsyncGenerator<Uint8Array> {
  /* no bytes */
}

describe('memory plugin', () => {
  it('binds each chosen port to one object, the stores on one disk even across config entries', async () => {
    const container = new Container();
    await container.loadAsync(memoryPlugin.createModule({}, context(['logStore', 'backend', 'transport'])));
    await container.loadAsync(memoryPlugin.createModule({}, context(['stableStore', 'snapshotStore'])));
    for (const token of [LOG_STORE, STABLE_STORE, SNAPSHOT_STORE, BACKEND, TRANSPORT]) {
      expect(container.get(token)).to.equal(container.get(token));
    }
    expect(container.get(TRANSPORT)).to.be.instanceOf(SingleMemberTransport);
    const disk = container.get<MemoryDisk>(MEMORY_DISK);
    await container.get<LogStore>(LOG_STORE).append([{ index: 1, term: 1, type: EntryType.Normal, data: new Uint8Array(0) }]);
    await container.get<StableStore>(STABLE_STORE).save({
      hardState: { term: 1, vote: '', commit: 0 },
      confState: { voters: [], learners: [] },
      clusterId: 'c',
      memberId: 'm',
    });
    expect(disk.syncs).to.equal(2);
  });

  it('binds only the ports the config chose it for', async () => {
    const container = new Container();
    await container.loadAsync(memoryPlugin.createModule({}, context(['backend'])));
    expect(container.isBound(BACKEND)).to.equal(true);
    expect(container.isBound(LOG_STORE)).to.equal(false);
    expect(container.isBound(TRANSPORT)).to.equal(false);
  });

  it('lets a container build a store without the plugin (a disk of its own)', () => {
    const container = new Container();
    container.bind(LOG_STORE).to(MemoryLogStore);
    expect(container.get<LogStore>(LOG_STORE).lastIndex()).to.equal(0);
  });
});

describe('SingleMemberTransport', () => {
  it('drops every message, remembers its peers and refuses snapshots', async () => {
    const t = new SingleMemberTransport();
    t.send([msg('b')]);
    expect(t.dropped).to.equal(0);
    await t.start('a', handler, 'c');
    t.setPeers(new Map([['b', ['http://127.0.0.1:1']]]));
    expect(t.knownPeers()).to.deep.equal(['b']);
    t.send([msg('b'), msg('z')]);
    expect(t.dropped).to.equal(2);
    let error: Error | undefined;
    await t.sendSnapshot(msg('b'), empty()).catch((e: Error) => {
      error = e;
    });
    expect(error?.message).to.equal('snapshot to b failed: peer unreachable from a single-member transport');
    await t.sendSnapshot(msg('z'), empty()).catch((e: Error) => {
      error = e;
    });
    expect(error?.message).to.equal('snapshot to z failed: unknown peer');
    await t.stop();
    await t.stop();
  });
});
