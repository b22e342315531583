import { startTestMember, TemporaryDirectories } from '@cairn/core/testkit';
import { expect } from 'chai';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This example's package directory (from test/ or dist/test/): what the config's `use:` names by path. */
const here = dirname(fileURLToPath(import.meta.url));
const pluginDirectory = here.endsWith(join('dist', 'test')) ? join(here, '../..') : join(here, '..');

describe('an extension plugin contributes a health check and a metric', function () {
  this.timeout(30_000);
  const dirs = new TemporaryDirectories('cairn-health-example');
  after(() => dirs.removeAll());

  it("is loaded by path from the config, and its check and metric are served with the kernel's own", async () => {
    const member = await startTestMember({
      dataDir: await dirs.make(),
      config: { plugins: { extensions: [{ use: pluginDirectory, minFreeBytes: 1 }] } },
    });
    try {
      const health = await member.services.health!.check('readiness');
      expect(health.checks.map((c) => c.name)).to.deep.equal(['data_corruption', 'serializable_read', 'linearizable_read', 'non_learner', 'data-dir-space']);
      expect(health.checks.find((c) => c.name === 'data-dir-space')).to.deep.equal({ name: 'data-dir-space', healthy: true });
      const metrics = await member.services.metrics!.text();
      expect(metrics).to.match(/^cairn_example_data_dir_free_bytes \d+/m);
      expect(metrics).to.match(/^etcd_server_has_leader [01]$/m);
    } finally {
      await member.stop();
    }
  });

  it('reports the member unready when the data dir has less free space than the option asks', async () => {
    const member = await startTestMember({
      dataDir: await dirs.make(),
      config: { plugins: { extensions: [{ use: pluginDirectory, minFreeBytes: Number.MAX_SAFE_INTEGER }] } },
    });
    try {
      const health = await member.services.health!.check('readiness');
      expect(health.healthy).to.equal(false);
      expect(health.checks.find((c) => c.name === 'data-dir-space')?.reason).to.match(/bytes free under .* below 9007199254740991$/);
      // Liveness asks only liveness checks: a full disk does not make the process dead.
      expect((await member.services.health!.check('liveness')).checks.map((c) => c.name)).to.not.include('data-dir-space');
    } finally {
      await member.stop();
    }
  });

  it('refuses options its schema does not allow, naming the key', async () => {
    const failure = await startTestMember({
      dataDir: await dirs.make(),
      config: { plugins: { extensions: [{ use: pluginDirectory, minFreeBytes: -1 }] } },
    }).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(failure?.message).to.match(/^config: plugins\.extensions\[0\]\.minFreeBytes/);
  });
});
