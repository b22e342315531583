import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCairn, type CliIo } from '../../src/assembly/cli.js';
import { etcdApplication } from '../../src/assembly/etcd-application.js';
import type { DefaultPlugins } from '../../src/assembly/assembled-ports.js';
import { MemoryLogger } from '../../src/testkit/memory/memory-logger.js';

const DEFAULTS: DefaultPlugins = { storage: 'memory', transportSingle: 'memory', transportCluster: 'memory', api: [] };
const here = dirname(fileURLToPath(import.meta.url));
/** The repository's node_modules (dist/test/assembly → core → repo). */
const repoModules = resolve(here, '../../../../node_modules');

interface Run {
  code: number;
  out: string[];
  err: string[];
  logger: MemoryLogger;
}

/** Run the command; stop it once `until` sees a log line (or at once, for commands that exit by themselves). */
async function run(argv: string[], cwd: string, until?: (message: string) => boolean): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  let stop: (why: string) => void = () => undefined;
  const stopRequested = new Promise<string>((r) => {
    stop = r;
  });
  const logger = new MemoryLogger({
    level: 'info',
    sink: (line) => {
      if (until?.(line.message)) stop('test');
    },
  });
  const io: CliIo = { cwd, out: (l) => out.push(l), err: (l) => err.push(l), stopRequested, logger };
  const timer = setTimeout(() => stop('test timeout'), 15_000);
  const code = await runCairn(argv, etcdApplication, DEFAULTS, io);
  clearTimeout(timer);
  return { code, out, err, logger };
}

describe('the cairn command', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-cmd-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('--help prints every flag and exits 0', async () => {
    const r = await run(['--help'], dir);
    expect(r.code).to.equal(0);
    expect(r.out.join('\n')).to.contain('--initial-cluster-token').and.to.contain('--config-file');
  });

  it('starts a single member that elects itself, and stops cleanly when asked', async () => {
    const r = await run([], dir, (m) => m === 'became leader');
    expect(r.code).to.equal(0);
    const messages = r.logger.lines().map((l) => l.message);
    expect(messages).to.include('became leader');
    expect(messages).to.include('member stopped');
    expect(existsSync(join(dir, 'default.cairn'))).to.equal(true);
  });

  it('a bad config exits 2 with one message naming the key, and starts nothing', async () => {
    const r = await run(['--snapshot-count', 'many', '--data-dir', 'd'], dir);
    expect(r.code).to.equal(2);
    expect(r.err).to.have.length(1);
    expect(r.err[0]).to.match(/^cairn: .*snapshot-count/);
    expect(existsSync(join(dir, 'd'))).to.equal(false);
  });

  it('an unknown plugin, or one that does not provide its port, exits 2 naming the key', async () => {
    writeFileSync(join(dir, 'unknown.yaml'), 'plugins:\n  backend: { use: "@cairn/no-such-plugin" }\n');
    const unknown = await run(['--config-file', 'unknown.yaml'], dir);
    expect(unknown.code).to.equal(2);
    expect(unknown.err[0]).to.match(/plugins\.backend\.use: unknown plugin "@cairn\/no-such-plugin"/);

    writeFileSync(
      join(dir, 'api-only.mjs'),
      `export default {
      manifest: { name: 'api-only', provides: ['api'], optionsSchema: { type: 'object' } },
      createModule() { throw new Error('never called'); },
    };\n`,
    );
    writeFileSync(join(dir, 'wrong-port.yaml'), 'plugins:\n  storage: { use: ./api-only.mjs }\n');
    const wrong = await run(['--config-file', 'wrong-port.yaml'], dir);
    expect(wrong.code).to.equal(2);
    expect(wrong.err[0]).to.match(/plugins\.storage\.use: plugin "api-only" does not provide the logStore port/);

    writeFileSync(join(dir, 'bad-options.yaml'), 'plugins:\n  storage: { use: memory, size: 3 }\n');
    const options = await run(['--config-file', 'bad-options.yaml'], dir);
    expect(options.code).to.equal(2);
    expect(options.err[0])
      .to.match(/plugins\.storage/)
      .and.to.match(/size/);
  });

  it('loads a plugin package from a directory outside the workspace', async () => {
    // An installed plugin package: its own node_modules holds its dependencies.
    const pkg = join(dir, 'external', 'counting-backend');
    mkdirSync(join(pkg, 'node_modules', '@cairn'), { recursive: true });
    symlinkSync(join(repoModules, 'inversify'), join(pkg, 'node_modules', 'inversify'));
    symlinkSync(join(repoModules, '@cairn', 'core'), join(pkg, 'node_modules', '@cairn', 'core'));
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'counting-backend', type: 'module', main: 'index.js' }));
    writeFileSync(
      join(pkg, 'index.js'),
      `import { ContainerModule } from 'inversify';
import { BACKEND } from '@cairn/core';
import { MemoryBackend } from '@cairn/core/testkit';
class CountingBackend extends MemoryBackend {
  constructor(logger) { super(); this.logger = logger; this.writes = 0; }
  async write(ops) { this.writes++; return super.write(ops); }
  async close() { this.logger.info({ writes: this.writes }, 'counting backend closed'); }
}
export default {
  manifest: { name: 'counting-backend', provides: ['backend'], optionsSchema: { type: 'object', properties: {}, additionalProperties: false } },
  createModule(_options, context) {
    return new ContainerModule(({ bind }) => bind(BACKEND).toConstantValue(new CountingBackend(context.logger)));
  },
};\n`,
    );
    writeFileSync(join(dir, 'cairn.yaml'), `plugins:\n  storage: { use: memory }\n  backend: { use: ./external/counting-backend }\n`);
    const r = await run(['--config-file', 'cairn.yaml'], dir, (m) => m === 'became leader');
    expect(r.code, r.err.join('\n')).to.equal(0);
    const closed = r.logger.lines().find((l) => l.message === 'counting backend closed');
    expect(closed, 'the external backend was used and closed').to.not.equal(undefined);
    expect(closed!.fields['writes']).to.be.greaterThan(0);
  });
});
