import { randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CorruptBoltFileError } from '../etcd-snapshot/bolt-file-reader.js';
import { openEtcdSnapshot } from '../etcd-snapshot/etcd-snapshot-reader.js';
import { authRestoreOps } from '../auth/auth-snapshot.js';
import { loadSnapshotIntoBackend, type SnapshotLoadOptions, type SnapshotLoadResult, type SnapshotLoadSource } from '../mvcc/mvcc-snapshot-loader.js';
import { checkSnapshotTrailer, SnapshotHashError, snapshotTrailerOf } from '../etcd-snapshot/snapshot-hash-trailer.js';
import type { Logger } from '../ports/logger.js';
import { SystemLogger } from '../ports/system-logger.js';
import { assemblePorts, type DefaultPlugins } from './assembled-ports.js';
import { ConfigError } from './config-error.js';
import { loadConfig } from './config-loader.js';
import type { CairnConfig } from './config-schema.js';
import { FLAGS, type FlagSpec } from './flags.js';
import { clusterIdOf } from '../cluster/member-id.js';
import { memberTopology } from './member.js';
import { progressOn, type ProgressStream } from './progress-bar.js';
import type { BuiltinPlugins } from './plugin-loader.js';

/** The server flags that matter to a restore: where the data goes and the new cluster it founds. */
const SHARED_FLAGS = ['config-file', 'data-dir', 'name', 'initial-cluster', 'initial-cluster-token', 'initial-advertise-peer-urls'] as const;

export const RESTORE_FLAGS: readonly FlagSpec[] = [
  ...SHARED_FLAGS.map((name) => FLAGS.find((f) => f.name === name)!),
  { name: 'skip-hash-check', kind: 'boolean', description: 'accept a file without the sha256 trailer (a copy of member/snap/db), and do not verify one' },
  { name: 'help', kind: 'boolean', description: 'print this help and exit' },
];

export const SNAPSHOT_RESTORE_USAGE = 'cairn snapshot restore FILE [flags]';

export function snapshotRestoreHelp(): string {
  const lines = [
    `usage: ${SNAPSHOT_RESTORE_USAGE}`,
    '',
    'Restores a snapshot saved by `etcdctl snapshot save` (from etcd 3.4 or Cairn) into a new data',
    'directory, through the storage plugins the config chooses. Every revision is kept (tombstones,',
    'create/mod revisions, versions, leases and the compact revision). The member then starts as the',
    'founder of a NEW cluster: start `cairn` with the same --data-dir, --name, --initial-cluster and',
    "--initial-cluster-token, and its next write gets the snapshot's revision + 1.",
    '',
    'Refuses (exit 2, nothing written) a missing or damaged file, a sha256 mismatch, a data dir that',
    'already holds data, and the in-memory storage plugin.',
    '',
    'On a terminal, stderr shows a progress bar (the sha256 check, then the revisions restored);',
    'piped or redirected, the command prints only its result.',
    '',
    'flags:',
  ];
  for (const f of RESTORE_FLAGS) {
    const arg = f.kind === 'boolean' ? '' : ' <value>';
    const def = f.defaultText === undefined ? '' : ` (default ${f.defaultText})`;
    lines.push(`  --${f.name}${arg}`.padEnd(40) + f.description + def);
  }
  return lines.join('\n');
}

export interface SnapshotCommandIo {
  readonly cwd: string;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly logger?: Logger;
  /** Where the progress bar draws (stderr): only when it is a terminal. */
  readonly progress?: ProgressStream;
}

export interface SnapshotCommandContext {
  readonly defaults: DefaultPlugins;
  readonly builtins: BuiltinPlugins;
  readonly io: SnapshotCommandIo;
  /** Tests only: smaller batches. */
  readonly loadOptions?: SnapshotLoadOptions;
}

/** What a refused input is reported as: one line, exit code 2 (the CLI's code for bad input). */
class RestoreRefusal extends ConfigError {}

/**
 * `cairn snapshot <subcommand>`: only `restore` so far. Returns the exit code: 0 when restored,
 * 2 for bad input (nothing written), 1 when writing failed (the data dir is left as it was).
 */
export async function runSnapshotCommand(argv: readonly string[], context: SnapshotCommandContext): Promise<number> {
  const { io } = context;
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h') {
    io.out(snapshotRestoreHelp());
    return 0;
  }
  if (sub === undefined) {
    io.err(`cairn: snapshot: missing the subcommand (usage: ${SNAPSHOT_RESTORE_USAGE})`);
    return 2;
  }
  if (sub !== 'restore') {
    io.err(`cairn: snapshot: unknown subcommand "${sub}" (usage: ${SNAPSHOT_RESTORE_USAGE})`);
    return 2;
  }
  try {
    return await restore(rest, context);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`cairn: snapshot restore: ${err.message}`);
      return err.exitCode;
    }
    if (err instanceof CorruptBoltFileError || err instanceof SnapshotHashError) {
      io.err(`cairn: snapshot restore: ${err.message}`);
      return 2;
    }
    io.err(`cairn: snapshot restore failed: ${(err as Error).message}`);
    return 1;
  }
}

async function restore(argv: readonly string[], context: SnapshotCommandContext): Promise<number> {
  const { io } = context;
  const { file, skipHashCheck, help, configArgs } = parseRestoreArgs(argv);
  if (help) {
    io.out(snapshotRestoreHelp());
    return 0;
  }
  const loaded = loadConfig(configArgs, io.cwd);
  const config = loaded.config;
  if (config['initial-cluster-state'] !== 'new') {
    throw new RestoreRefusal('initial-cluster-state must be "new": a restored member founds a new cluster');
  }
  refuseVolatileBackend(config, context);
  const dataDir = resolve(loaded.baseDir, config['data-dir']);
  const emptyDirExists = await checkDataDirUnused(dataDir);
  const snapshotPath = resolve(io.cwd, file);
  const size = await snapshotSize(snapshotPath);

  // The input is checked before anything is written: the sha256 over the whole file, then the
  // meta page and size (a file that is not bbolt at all is named as such before a missing
  // trailer is), then each page and record as they load.
  const { databaseLength, hasTrailer } = snapshotTrailerOf(size);
  const progress = progressOn(io.progress);
  let verified = false;
  if (hasTrailer && !skipHashCheck) {
    progress.phase('checking sha256', size, 'bytes');
    try {
      verified = (await checkSnapshotTrailer(snapshotPath, size, false, (read) => progress.update(read))).verified;
    } finally {
      progress.finish();
    }
  }
  const snapshot = await openEtcdSnapshot(snapshotPath, { length: databaseLength });
  let result: SnapshotLoadResult;
  const identity = newClusterIdentity(config);
  try {
    if (!hasTrailer && !skipHashCheck) await checkSnapshotTrailer(snapshotPath, size, false); // refuses: no trailer
    result = await loadIntoNewDataDir(dataDir, emptyDirExists, async (stagingDir) => {
      const logger = io.logger ?? new SystemLogger('warn');
      const ports = await assemblePorts(config, loaded.baseDir, stagingDir, context.builtins, context.defaults, {
        logger,
        identity,
      });
      await ports.backend.open();
      try {
        // Possible only for a plugin told to keep its data outside the data dir (an absolute path option).
        for await (const _ of ports.backend.range({ limit: 1 }))
          throw new RestoreRefusal('the backend the config chooses already holds data (outside the data dir?); restore only into an empty one');
        progress.phase('restoring', undefined, 'revisions');
        let loaded: SnapshotLoadResult;
        try {
          loaded = await loadSnapshotIntoBackend(
            ports.backend,
            countingRecords(snapshot, (n) => progress.update(n)),
            context.loadOptions,
          );
        } finally {
          progress.finish();
        }
        // Users, roles and the enabled flag come along (etcd's auth buckets, from Cairn or etcd).
        if (snapshot.auth !== undefined) {
          await ports.backend.write(authRestoreOps(snapshot.auth));
          await ports.backend.flush();
        }
        return loaded;
      } finally {
        await ports.backend.close();
      }
    });
  } finally {
    await snapshot.close();
  }
  const compacted = result.compactRevision > 0 ? `, compacted at ${result.compactRevision}` : '';
  io.out(
    `restored ${snapshotPath} into ${dataDir}: ${result.records} stored revisions, revision ${result.revision}${compacted} (sha256 ${verified ? 'verified' : 'not checked'})`,
  );
  io.out(`start cairn with --data-dir ${dataDir} --name ${config.name}: it founds the new cluster ${identity.clusterId} as member ${identity.memberId}`);
  return 0;
}

function parseRestoreArgs(argv: readonly string[]): { file: string; skipHashCheck: boolean; help: boolean; configArgs: string[] } {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const f of RESTORE_FLAGS) options[f.name] = { type: f.kind === 'boolean' ? 'boolean' : 'string' };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (err) {
    throw new RestoreRefusal(`flags: ${(err as Error).message}`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const help = values['help'] === true;
  if (help) return { file: '', skipHashCheck: false, help, configArgs: [] };
  if (parsed.positionals.length !== 1) {
    throw new RestoreRefusal(`expected one snapshot FILE, got ${parsed.positionals.length} (usage: ${SNAPSHOT_RESTORE_USAGE})`);
  }
  const configArgs: string[] = [];
  for (const name of SHARED_FLAGS) {
    const value = values[name];
    if (typeof value === 'string') configArgs.push(`--${name}`, value);
  }
  return { file: parsed.positionals[0]!, skipHashCheck: values['skip-hash-check'] === true, help, configArgs };
}

/** `source` whose records are counted as they stream (a progress bar). */
function countingRecords(source: SnapshotLoadSource, counted: (records: number) => void): SnapshotLoadSource {
  return {
    consistentIndex: source.consistentIndex,
    compactRevision: source.compactRevision,
    ...(source.scheduledCompactRevision === undefined ? {} : { scheduledCompactRevision: source.scheduledCompactRevision }),
    ...(source.auth === undefined ? {} : { auth: source.auth }),
    records: async function* () {
      let n = 0;
      for await (const record of source.records()) {
        yield record;
        counted(++n);
      }
    },
  };
}

/** The in-memory backend would drop everything when the command exits. */
function refuseVolatileBackend(config: CairnConfig, context: SnapshotCommandContext): void {
  const key = config.plugins.backend !== undefined ? 'plugins.backend' : 'plugins.storage';
  const use = (config.plugins.backend ?? config.plugins.storage)?.use ?? context.defaults.storage;
  if (context.builtins.get(use)?.manifest.name === 'memory') {
    throw new RestoreRefusal(
      `${key}: the backend is the in-memory plugin "${use}", which keeps nothing once the command exits; choose a durable storage plugin in --config-file`,
    );
  }
}

/** Refuses a data dir with anything in it; returns whether it exists (empty). */
async function checkDataDirUnused(dataDir: string): Promise<boolean> {
  let isDirectory: boolean;
  try {
    isDirectory = (await lstat(dataDir)).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new RestoreRefusal(`data-dir: cannot inspect ${dataDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!isDirectory) throw new RestoreRefusal(`data-dir: ${dataDir} exists and is not a directory`);
  const entries = await readdir(dataDir);
  if (entries.length > 0) {
    throw new RestoreRefusal(
      `data-dir: ${dataDir} already holds data (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}); restore into a new or empty directory`,
    );
  }
  return true;
}

async function snapshotSize(path: string): Promise<number> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new RestoreRefusal(`${path} is not a file`);
    return info.size;
  } catch (err) {
    if (err instanceof RestoreRefusal) throw err;
    throw new RestoreRefusal(`cannot read the snapshot ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** The IDs the member gets when it starts with these flags (as Member.start derives them). */
function newClusterIdentity(config: CairnConfig): { clusterId: string; memberId: string } {
  // Restore founds a new cluster whatever initial-cluster-state says: its ID follows from the founders.
  const { founders, self } = memberTopology(config);
  return { clusterId: clusterIdOf(founders.map((m) => m.id)), memberId: self.id };
}

/**
 * Runs `load` on a staging directory beside `dataDir`, then renames it into place: the data dir
 * appears whole or not at all, and a failure leaves it as it was (the staging dir is removed).
 * Storage plugins keep their files under the data dir they are given, so the rename carries them.
 */
async function loadIntoNewDataDir<T>(dataDir: string, emptyDirExists: boolean, load: (stagingDir: string) => Promise<T>): Promise<T> {
  const parent = dirname(dataDir);
  let createdParent: string | undefined;
  try {
    createdParent = await mkdir(parent, { recursive: true });
  } catch (err) {
    throw new RestoreRefusal(`data-dir: cannot create ${parent}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let stagingDir: string | undefined;
  try {
    stagingDir = await mkdtemp(join(parent, `.${basename(dataDir)}.restoring-${randomBytes(3).toString('hex')}-`));
    const result = await load(stagingDir);
    // rename(2) replaces an empty directory; one that filled up meanwhile makes it fail.
    if (!emptyDirExists) await checkDataDirUnused(dataDir);
    await rename(stagingDir, dataDir);
    stagingDir = undefined;
    await syncDirectory(parent);
    return result;
  } catch (err) {
    if (stagingDir !== undefined) await rm(stagingDir, { recursive: true, force: true });
    if (createdParent !== undefined) await rm(createdParent, { recursive: true, force: true });
    if ((err as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new RestoreRefusal(`data-dir: ${dataDir} filled up while the snapshot was restored; nothing was changed`);
    }
    throw err;
  }
}

/** Makes the rename durable (the directory entry), where the platform allows syncing a directory. */
async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } catch {
    // Some platforms cannot fsync a directory; the rename itself has happened.
  } finally {
    await handle.close();
  }
}
