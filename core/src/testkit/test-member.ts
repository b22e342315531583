import type { ContainerModule } from 'inversify';
import { BUILTIN_PLUGINS } from '../assembly/cli.js';
import { configFrom } from '../assembly/config-loader.js';
import { etcdApplication } from '../assembly/etcd-application.js';
import { Member } from '../assembly/member.js';
import type { Logger } from '../ports/logger.js';
import { SystemLogger } from '../ports/system-logger.js';

export interface TestMemberOptions {
  /** Where the member keeps its data (a temporary directory of the test). */
  readonly dataDir: string;
  /**
   * etcd-style config keys, as in a config file (`plugins:` included). Unless the keys say
   * otherwise, the member stores everything in memory, runs alone and serves no API.
   */
  readonly config?: Readonly<Record<string, unknown>>;
  /** Where plugin paths in `config.plugins` resolve from (default: the working directory). */
  readonly baseDir?: string;
  /** Modules loaded last, e.g. to rebind CLOCK or a port. */
  readonly overrides?: readonly ContainerModule[];
  readonly logger?: Logger;
}

/**
 * A member assembled exactly as `cairn` assembles one (the same container modules, the plugins
 * the config names), inside the test's process. Stop it with `member.stop()`.
 */
export function startTestMember(options: TestMemberOptions): Promise<Member> {
  const config = configFrom({ 'data-dir': options.dataDir, 'log-level': 'error', ...options.config });
  return Member.start({
    config,
    baseDir: options.baseDir ?? process.cwd(),
    application: etcdApplication,
    builtins: BUILTIN_PLUGINS,
    defaults: { storage: 'memory', transportSingle: 'memory', transportCluster: 'memory', api: [] },
    logger: options.logger ?? new SystemLogger(config['log-level']),
    ...(options.overrides === undefined ? {} : { overrides: options.overrides }),
  });
}
