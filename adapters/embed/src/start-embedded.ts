import { Client } from '@cairn/client';
import type { RunningMember } from '@cairn/core';
import { startEmbeddedMember, type EmbedOptions, type EmbeddedConfig } from './embedded-member.js';
import type { InProcessChannel } from './in-process-channel.js';

/** A member running in this process and a client bound to it without a socket. */
export interface EmbeddedCairn {
  /** A `@cairn/client` Client on the in-process channel: KV, watches, leases, sessions and every recipe. */
  readonly client: Client;
  /** The running member (its container, Raft node and services). */
  readonly member: RunningMember;
  /** The channel the client uses; more clients may share it (`new Client({ channel })`). */
  readonly channel: InProcessChannel;
  /** Closes the client (its watches and keep-alives end; leases are not revoked), then stops the member. Idempotent. */
  close(): Promise<void>;
  /** Called when the member halts on an unrecoverable error; its calls then fail UNAVAILABLE (see EmbeddedMemberHandle.onFatal). */
  onFatal(listener: (error: Error) => void): void;
}

/**
 * Start a Cairn member inside this Node.js process from a config object with the config file's
 * keys (validated as the file is: a bad one rejects with the same ConfigError), and get a client
 * bound to it in-process. Its data lives under `data-dir` (the WAL and LMDB, as for `cairn`);
 * nothing listens on the network unless the config sets `listen-client-urls`.
 */
export async function startEmbedded(config: EmbeddedConfig, options: EmbedOptions = {}): Promise<EmbeddedCairn> {
  const embedded = await startEmbeddedMember(config, options);
  const client = new Client({ channel: embedded.channel });
  let closing: Promise<void> | undefined;
  return {
    client,
    member: embedded.member,
    channel: embedded.channel,
    onFatal: (listener) => embedded.onFatal(listener),
    close: () => {
      closing ??= (async () => {
        try {
          await client.close();
        } finally {
          await embedded.close();
        }
      })();
      return closing;
    },
  };
}
