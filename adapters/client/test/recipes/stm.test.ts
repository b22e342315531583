import { expect } from 'chai';
import { stm, StmConflictError, type StmIsolation } from '../../src/index.js';
import { freshPrefix, describeOnEachServer, rejectionOf } from './recipe-test-kit.js';

describeOnEachServer('recipes: stm', (kit) => {
  it('concurrent transfers between accounts keep the total (serializable-snapshot)', async () => {
    const prefix = freshPrefix('bank');
    const accounts = [0, 1, 2, 3].map((i) => `${prefix}/account-${i}`);
    for (const account of accounts) await kit.client.put(account, '100');
    const clients = [kit.client, kit.newClient(), kit.newClient()];
    let retried = 0;
    await Promise.all(
      clients.map(async (client, c) => {
        for (let i = 0; i < 10; i++) {
          const from = accounts[(c + i) % 4]!;
          const to = accounts[(c + i + 1) % 4]!;
          const result = await stm(
            client,
            async (tx) => {
              const a = Number(await tx.get(from));
              const b = Number(await tx.get(to));
              tx.put(from, String(a - 7));
              tx.put(to, String(b + 7));
            },
            { maxAttempts: 50 },
          );
          if (result.attempts > 1) retried++;
        }
      }),
    );
    let total = 0;
    for (const account of accounts) total += Number((await kit.client.get(account))!.value.toString());
    expect(total).to.equal(400);
    // Not asserted (timing), but reported: contention made some transfers retry.
    expect(retried).to.be.at.least(0);
  });

  /** Runs `apply` with a write to `key` by another client during its first attempt, after it read. */
  async function withInterference(isolation: StmIsolation, key: string, readKey: string) {
    const other = kit.newClient();
    let interfered = false;
    return stm(
      kit.client,
      async (tx) => {
        const seen = Number((await tx.get(readKey)) ?? '0');
        if (!interfered) {
          interfered = true;
          await other.put(key, '1000');
        }
        tx.put(key, String(seen + 1));
        return seen;
      },
      { isolation },
    );
  }

  it('repeatable-read and serializable retry when a key they read changed; read-committed does not', async () => {
    for (const isolation of ['repeatable-read', 'serializable'] as const) {
      const key = `${freshPrefix(isolation)}/k`;
      await kit.client.put(key, '1');
      const result = await withInterference(isolation, key, key);
      expect(result.attempts, isolation).to.equal(2);
      expect((await kit.client.get(key))!.value.toString(), isolation).to.equal('1001');
    }
    const key = `${freshPrefix('read-committed')}/k`;
    await kit.client.put(key, '1');
    const result = await withInterference('read-committed', key, key);
    expect(result.attempts).to.equal(1);
    expect((await kit.client.get(key))!.value.toString()).to.equal('2'); // the lost update read-committed allows
  });

  it('serializable-snapshot also retries when a key it only writes changed after its first read', async () => {
    const prefix = freshPrefix('snapshot');
    await kit.client.put(`${prefix}/read`, '5');
    const snapshot = await withInterference('serializable-snapshot', `${prefix}/written`, `${prefix}/read`);
    expect(snapshot.attempts).to.equal(2);
    const plain = await withInterference('serializable', `${prefix}/written-2`, `${prefix}/read`);
    expect(plain.attempts).to.equal(1);
  });

  it('serializable reads every key at the revision of the first read', async () => {
    const prefix = freshPrefix('pinned');
    await kit.client.put(`${prefix}/a`, 'a1');
    await kit.client.put(`${prefix}/b`, 'b1');
    const seen: (string | undefined)[][] = [];
    const result = await stm(
      kit.client,
      async (tx) => {
        const a = await tx.get(`${prefix}/a`);
        if (seen.length === 0) await kit.newClient().put(`${prefix}/b`, 'b2');
        seen.push([a, await tx.get(`${prefix}/b`)]);
      },
      { isolation: 'serializable' },
    );
    // The first attempt read b at a's revision (the old value), so its commit conflicted.
    expect(seen).to.deep.equal([
      ['a1', 'b1'],
      ['a1', 'b2'],
    ]);
    expect(result.attempts).to.equal(2);
  });

  it('gives up with StmConflictError after maxAttempts; an error thrown by apply writes nothing', async () => {
    const prefix = freshPrefix('bound');
    const other = kit.newClient();
    let runs = 0;
    const conflicted = await rejectionOf(
      stm(
        kit.client,
        async (tx) => {
          runs++;
          await tx.get(`${prefix}/k`);
          await other.put(`${prefix}/k`, String(runs));
          tx.put(`${prefix}/k`, 'never');
        },
        { maxAttempts: 3 },
      ),
    );
    expect(conflicted).to.be.instanceOf(StmConflictError);
    expect(runs).to.equal(3);
    const failed = await rejectionOf(
      stm(kit.client, async (tx) => {
        tx.put(`${prefix}/other`, 'x');
        throw new Error('apply failed');
      }),
    );
    expect((failed as Error).message).to.equal('apply failed');
    expect(await kit.client.get(`${prefix}/other`)).to.equal(undefined);
  });

  it('sees its own writes and deletes, and reports rev()', async () => {
    const prefix = freshPrefix('own');
    const put = await kit.client.put(`${prefix}/x`, 'old');
    const result = await stm(kit.client, async (tx) => {
      const rev = await tx.rev(`${prefix}/x`);
      tx.put(`${prefix}/x`, 'new');
      const afterPut = await tx.get(`${prefix}/x`);
      tx.delete(`${prefix}/x`);
      return { rev, afterPut, afterDelete: await tx.get(`${prefix}/x`) };
    });
    expect(result.value).to.deep.equal({ rev: put.header.revision, afterPut: 'new', afterDelete: undefined });
    expect(await kit.client.get(`${prefix}/x`)).to.equal(undefined);
  });
});
