import { expect } from 'chai';
import { AlarmRegistry } from '../../src/alarm/alarm-registry.js';
import { PermissionType, type AuthInfo } from '../../src/api/auth-types.js';
import type { ResponseHeaders } from '../../src/api/response-headers.js';
import { encodeKvCommand, type KvCommand } from '../../src/apply/kv-command.js';
import { KvStateMachine } from '../../src/apply/kv-state-machine.js';
import { AuthApplier } from '../../src/auth/auth-applier.js';
import type { AuthenticateOutcome } from '../../src/auth/auth-command.js';
import { AuthStore } from '../../src/auth/auth-store.js';
import { SimpleTokenProvider } from '../../src/auth/simple-token-provider.js';
import { MemoryBackend } from '../../src/memory/memory-backend.js';
import { MvccStore } from '../../src/mvcc/mvcc-store.js';

const headers: ResponseHeaders = { header: (revision) => ({ clusterId: 1n, memberId: 2n, revision, raftTerm: 1 }) };
const b = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const HASH = b('$2b$04$0123456789012345678901');

async function stateMachine() {
  const backend = new MemoryBackend();
  const mvcc = await MvccStore.open(backend, { header: headers.header });
  const alarms = new AlarmRegistry(backend);
  const store = new AuthStore(backend);
  const tokens = new SimpleTokenProvider({ now: () => 0 }, 300_000);
  const applier = new AuthApplier(store, mvcc, tokens, headers);
  const machine = new KvStateMachine(mvcc, alarms, undefined, undefined, store, applier);
  let index = 0;
  const apply = async (command: KvCommand): Promise<{ ok?: unknown; error?: Error }> => machine.apply(++index, encodeKvCommand(command));
  const fail = async (command: KvCommand): Promise<string> => {
    const outcome = await apply(command);
    if (outcome.error === undefined) throw new Error(`${command.op} was applied`);
    return outcome.error.message;
  };
  return { backend, mvcc, store, tokens, machine, apply, fail, applied: () => index };
}

describe("auth applied from the log (etcd's authApplierV3)", () => {
  it('checks each user write against the store as it is when applied, and lets internal commands pass', async () => {
    const { store, apply, fail, mvcc } = await stateMachine();
    await apply({ op: 'userAdd', name: 'root', password: HASH, noPassword: false });
    await apply({ op: 'userGrantRole', user: 'root', role: 'root' });
    await apply({ op: 'userAdd', name: 'u', password: HASH, noPassword: false });
    await apply({ op: 'roleAdd', name: 'r' });
    await apply({ op: 'roleGrantPermission', name: 'r', perm: { permType: PermissionType.ReadWrite, key: b('u/'), rangeEnd: b('u0') } });
    await apply({ op: 'userGrantRole', user: 'u', role: 'r' });
    // Disabled: no caller needed for anything.
    await apply({ op: 'put', request: { key: b('open'), value: b('1') } });
    await apply({ op: 'authEnable' });
    const u: AuthInfo = { username: 'u', revision: store.revision };
    const root: AuthInfo = { username: 'root', revision: store.revision };

    expect(await fail({ op: 'put', request: { key: b('u/1'), value: b('1') } })).to.equal('etcdserver: user name is empty');
    await apply({ op: 'put', request: { key: b('u/1'), value: b('1') }, caller: u });
    expect(await fail({ op: 'put', request: { key: b('x'), value: b('1') }, caller: u })).to.equal('etcdserver: permission denied');
    expect(await fail({ op: 'put', request: { key: b('u/2'), value: b('1'), prevKv: true }, caller: { ...u, username: 'nobody' } })).to.equal(
      'etcdserver: permission denied',
    );
    expect(await fail({ op: 'deleteRange', request: { key: b('u/'), rangeEnd: b('v') }, caller: u })).to.equal('etcdserver: permission denied');
    expect(
      await fail({
        op: 'txn',
        request: {
          compare: [],
          success: [{ requestTxn: { compare: [], success: [{ requestPut: { key: b('x'), value: b('') } }], failure: [] } }],
          failure: [],
        },
        caller: u,
      }),
    ).to.equal('etcdserver: permission denied');
    expect(await fail({ op: 'roleAdd', name: 'r2', caller: u })).to.equal('etcdserver: permission denied');
    expect(await fail({ op: 'roleAdd', name: 'r2' })).to.equal('etcdserver: user name is empty');
    await apply({ op: 'roleAdd', name: 'r2', caller: root });
    // The store moved on since u's revision: refused when applied.
    expect(await fail({ op: 'put', request: { key: b('u/3'), value: b('1') }, caller: u })).to.equal('etcdserver: revision of auth store is old');
    await apply({ op: 'put', request: { key: b('u/3'), value: b('1') }, caller: { ...u, revision: store.revision } });
    // A revoke without a caller is the leader's expiry: no permission asked (here: no such lease).
    expect(await fail({ op: 'leaseRevoke', id: 5n })).to.equal('etcdserver: requested lease not found');
    // Refused writes changed nothing, and every entry still moved the applied index.
    expect((await mvcc.range({ key: b('x') })).count).to.equal(0);
    expect((await mvcc.range({ key: b('u/'), rangeEnd: b('u0') })).count).to.equal(2);
  });

  it('assigns a simple token on every member at apply, and asks the proposer to retry when the store moved since its password check', async () => {
    const { apply, fail, store, tokens, applied } = await stateMachine();
    expect(await fail({ op: 'authenticate', name: 'root', prefix: 'p', checkedRevision: 0 })).to.equal('etcdserver: authentication is not enabled');
    await apply({ op: 'userAdd', name: 'root', password: HASH, noPassword: false });
    await apply({ op: 'userGrantRole', user: 'root', role: 'root' });
    await apply({ op: 'userAdd', name: 'np', password: new Uint8Array(0), noPassword: true });
    await apply({ op: 'authEnable' });
    const done = (await apply({ op: 'authenticate', name: 'root', prefix: 'abcdefghijklmnop', checkedRevision: store.revision })).ok as AuthenticateOutcome;
    expect(done).to.deep.equal({ retry: false, username: 'root', revision: store.revision, token: `abcdefghijklmnop.${applied()}` });
    expect(await tokens.info(`abcdefghijklmnop.${applied()}`, store.revision)).to.deep.equal({ username: 'root', revision: store.revision });
    expect(((await apply({ op: 'authenticate', name: 'root', prefix: 'q', checkedRevision: store.revision - 1 })).ok as AuthenticateOutcome).retry).to.equal(
      true,
    );
    expect(await fail({ op: 'authenticate', name: 'np', prefix: 'q', checkedRevision: store.revision })).to.equal(
      'etcdserver: authentication failed, invalid user ID or password',
    );
    // Deleting the user drops its tokens on this member.
    await apply({ op: 'userDelete', name: 'np', caller: { username: 'root', revision: store.revision } });
    await apply({ op: 'userChangePassword', name: 'root', password: HASH, caller: { username: 'root', revision: store.revision } });
    expect(tokens.size).to.equal(0);
  });

  it("carries the auth store in the state machine's snapshot and restores it", async () => {
    const source = await stateMachine();
    await source.apply({ op: 'userAdd', name: 'root', password: HASH, noPassword: false });
    await source.apply({ op: 'userGrantRole', user: 'root', role: 'root' });
    await source.apply({ op: 'roleAdd', name: 'r' });
    await source.apply({ op: 'roleGrantPermission', name: 'r', perm: { permType: PermissionType.Read, key: b('k'), rangeEnd: b('\0') } });
    await source.apply({ op: 'authEnable' });
    const target = await stateMachine();
    await target.apply({ op: 'roleAdd', name: 'stale' });
    const snapshot = source.machine.snapshot();
    await target.machine.restore({ index: snapshot.index, term: 1 } as Parameters<KvStateMachine['restore']>[0], snapshot.data);
    expect(target.store.contents()).to.deep.equal(source.store.contents());
    expect(target.store.enabled).to.equal(true);
    expect(target.store.role('stale')).to.equal(undefined);
  });
});
