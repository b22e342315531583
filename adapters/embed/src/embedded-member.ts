import { BUILTIN_PLUGINS, configFrom, etcdApplication, RunningMember, SystemLogger, type Environment, type Logger } from '@cairn/core';
import { embeddedDefaults } from './default-plugins.js';
import { InProcessChannel } from './in-process-channel.js';

/**
 * etcd's config keys as in a Cairn config file (`name`, `data-dir`, `listen-client-urls`, ...,
 * `plugins:`), checked against the same schema: a bad key or value is the same ConfigError.
 */
export type EmbeddedConfig = Readonly<Record<string, unknown>>;

export interface EmbedOptions {
  /** Where relative paths in the config (`data-dir`, plugin paths) resolve from; default the working directory. */
  readonly baseDir?: string;
  /** The member's logger; default JSON lines on stderr at the config's `log-level`, as `cairn` writes them. */
  readonly logger?: Logger;
  /** The environment the assembly reads settings from (default process.env, as for `cairn`). */
  readonly environment?: Environment;
}

/** A member running in this process, and a channel to it that needs no socket. */
export interface EmbeddedMemberHandle {
  readonly member: RunningMember;
  readonly channel: InProcessChannel;
  /** Closes the channel (its streams end) and stops the member: its storage is closed and the data dir can be opened again. Idempotent. */
  close(): Promise<void>;
  /**
   * Called when the member halts on an error it cannot recover from (a failed fsync of its log,
   * say: `cairn` exits 1 on the same). By then the channel is closed, every call failing
   * UNAVAILABLE with the error's message, and the member is stopping; `close()` still waits for it.
   */
  onFatal(listener: (error: Error) => void): void;
}

/**
 * Start a member from config keys, assembled exactly as the `cairn` command assembles one (the
 * same validation, container modules and plugins), with the same default storage under its
 * `data-dir` (the WAL and LMDB), and an in-process channel to its services. No API frontend
 * listens unless the config sets `listen-client-urls` (or names `plugins.api` itself).
 */
export async function startEmbeddedMember(keys: EmbeddedConfig, options: EmbedOptions = {}): Promise<EmbeddedMemberHandle> {
  const config = configFrom(keys);
  const member = await RunningMember.start({
    config,
    baseDir: options.baseDir ?? process.cwd(),
    application: etcdApplication,
    builtins: BUILTIN_PLUGINS,
    defaults: embeddedDefaults(keys),
    logger: options.logger ?? new SystemLogger(config['log-level']),
    environment: options.environment ?? process.env,
  });
  const channel = new InProcessChannel(member.services, { maxRequestBytes: config['max-request-bytes'] });
  let closing: Promise<void> | undefined;
  const close = (reason?: string): Promise<void> => {
    closing ??= (async () => {
      channel.close(reason);
      await member.stop();
    })();
    return closing;
  };
  const fatalListeners: ((error: Error) => void)[] = [];
  let fatal: Error | undefined;
  member.node.onFatal((error) => {
    if (fatal !== undefined) return;
    fatal = error;
    // As `cairn` does: a halted member answers nothing more and releases its data dir.
    void close(`member halted: ${error.message}`).catch(() => undefined);
    for (const listener of fatalListeners) listener(error);
  });
  return {
    member,
    channel,
    close: () => close(),
    onFatal: (listener) => {
      if (fatal !== undefined) queueMicrotask(() => listener(fatal!));
      else fatalListeners.push(listener);
    },
  };
}
