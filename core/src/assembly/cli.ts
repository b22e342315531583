import { readFileSync } from 'node:fs';
import type { ContainerModule } from 'inversify';
import type { Environment } from '../ports/environment.js';
import type { Logger } from '../ports/logger.js';
import { SystemLogger } from '../ports/system-logger.js';
import { memoryPlugin } from '../memory/memory-plugin.js';
import type { DefaultPlugins } from './assembled-ports.js';
import { ConfigError } from './config-error.js';
import { loadConfig } from './config-loader.js';
import { helpText } from './flags.js';
import { Member } from './member.js';
import type { CairnPlugin } from '../ports/plugin.js';
import type { ProgressStream } from './progress-bar.js';
import { runSnapshotCommand, SNAPSHOT_RESTORE_USAGE } from './snapshot-restore-command.js';

export interface CliIo {
  readonly cwd: string;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM in the real command). */
  readonly stopRequested: Promise<string>;
  /** The process environment (the real command passes process.env). */
  readonly env?: Environment;
  /** Overrides the structured logger (tests). */
  readonly logger?: Logger;
  /** Where long operations draw a progress bar (the real command: stderr, drawn only on a terminal). */
  readonly progress?: ProgressStream;
}

export const BUILTIN_PLUGINS: ReadonlyMap<string, CairnPlugin> = new Map([
  ['memory', memoryPlugin],
  ['@cairn/core/memory', memoryPlugin],
]);

export function cairnVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** The subcommands, listed under the server's flags in `cairn --help`. */
const COMMANDS_HELP = [
  '',
  'commands:',
  `  ${SNAPSHOT_RESTORE_USAGE}`.padEnd(40) + 'restore an `etcdctl snapshot save` file into a new data dir',
  ''.padEnd(40) + '(see cairn snapshot restore --help)',
].join('\n');

/**
 * The `cairn` command: load the config, start the member, serve until asked to stop. Returns the
 * exit code: 0 after a clean stop, 2 for a bad config (nothing started), 1 for a failure.
 * `cairn snapshot restore FILE ...` restores a snapshot instead and exits.
 */
export async function runCairn(argv: readonly string[], application: ContainerModule, defaults: DefaultPlugins, io: CliIo): Promise<number> {
  if (argv[0] === 'snapshot') return runSnapshotCommand(argv.slice(1), { defaults, builtins: BUILTIN_PLUGINS, io });
  let member: Member | undefined;
  try {
    const loaded = loadConfig(argv, io.cwd);
    if (loaded.help) {
      io.out(`${helpText(cairnVersion())}\n${COMMANDS_HELP}`);
      return 0;
    }
    if (loaded.version) {
      io.out(`cairn ${cairnVersion()} (etcd v3 API 3.4)`);
      return 0;
    }
    const logger = io.logger ?? new SystemLogger(loaded.config['log-level']);
    member = await Member.start({
      config: loaded.config,
      baseDir: loaded.baseDir,
      application,
      builtins: BUILTIN_PLUGINS,
      defaults,
      logger,
      stopRequested: io.stopRequested,
      ...(io.env === undefined ? {} : { environment: io.env }),
    });
    const fatal = new Promise<string>((resolve) => member!.node.onFatal((e) => resolve(`fatal: ${e.message}`)));
    const why = await Promise.race([io.stopRequested, fatal]);
    logger.info({ reason: why }, 'stopping');
    await member.stop();
    return why.startsWith('fatal') ? 1 : 0;
  } catch (err) {
    if (member !== undefined) await member.stop().catch(() => undefined);
    if (err instanceof ConfigError) {
      io.err(`cairn: ${err.message}`);
      return err.exitCode;
    }
    io.err(`cairn: ${(err as Error).message}`);
    return 1;
  }
}
