import { expect } from 'chai';
import type { EtcdError } from '../../src/api/errors.js';
import type { CairnServices } from '../../src/api/services.js';
import { assembledCluster, clusterMemberIds } from '../node/assembled-cluster.js';

const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const TOKEN = 'auth-test';
const IDS = clusterMemberIds(TOKEN);

/** Three members assembled as `cairn` is (bcrypt at its cheapest cost), on virtual time. */
async function authCluster() {
  const { cluster, services } = await assembledCluster(TOKEN, { 'bcrypt-cost': 4 });
  /**
   * bcrypt runs on libuv's threads in real time: virtual time moves in small steps and real time
   * gets its turn between them, so a hash finishes before the virtual clock runs far ahead.
   */
  const run = async <T>(promise: Promise<T>): Promise<T> => {
    let settled = false;
    const watched = promise.finally(() => {
      settled = true;
    });
    // Handled when returned; until then a refusal is expected, not an unhandled rejection.
    watched.catch(() => undefined);
    for (let step = 0; step < 5_000 && !settled; step++) {
      await cluster.clock.runFor(5, () => settled);
      if (!settled) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    return watched;
  };
  const on = (id: string): CairnServices => services.get(id)!;
  return { cluster, run, on };
}

describe('auth on a 3-member cluster (virtual time)', function () {
  this.timeout(60_000);

  it('a user added through one member authenticates on every other; a deleted user’s token stops working everywhere', async () => {
    const { cluster, run, on } = await authCluster();
    const [first, second, third] = IDS as [string, string, string];
    const admin = on(first).auth!;
    await run(admin.userAdd('root', 'rootpw', { noPassword: false }));
    await run(admin.userGrantRole('root', 'root'));
    await run(admin.userAdd('alice', 'alicepw', { noPassword: false }));
    await run(admin.roleAdd('app'));
    await run(admin.roleGrantPermission('app', { permType: 2, key: bytes('app/'), rangeEnd: bytes('app0') }));
    await run(admin.userGrantRole('alice', 'app'));
    await run(admin.enable());

    // Authenticated through the second member: its simple token is known on all three (recorded at apply).
    const { token } = await run(on(second).auth!.authenticate('alice', 'alicepw'));
    await cluster.clock.runFor(100);
    for (const id of IDS) {
      const alice = await run(on(id).authorize!({ token }));
      await run(alice.kv.put({ key: bytes(`app/${id}`), value: bytes('v') }));
      const denied = (await run(alice.kv.range({ key: bytes('other') })).catch((err: EtcdError) => err)) as EtcdError;
      expect(denied.message).to.equal('etcdserver: permission denied');
    }
    // And on the third, a fresh token of its own.
    const thirdToken = (await run(on(third).auth!.authenticate('alice', 'alicepw'))).token;
    expect(thirdToken).to.not.equal(token);

    const root = await run(on(third).authorize!({ token: (await run(on(third).auth!.authenticate('root', 'rootpw'))).token }));
    await run(root.auth!.userDelete('alice'));
    await cluster.clock.runFor(100);
    for (const id of IDS) {
      for (const t of [token, thirdToken]) {
        const refused = (await run(on(id).authorize!({ token: t })).catch((err: EtcdError) => err)) as EtcdError;
        expect(refused.message).to.equal('etcdserver: invalid auth token');
      }
      const anyone = await run(on(id).authorize!({}));
      expect((await run(anyone.auth!.status())).enabled).to.equal(true);
    }
    await cluster.stop();
  });
});
