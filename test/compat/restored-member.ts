import { execFile } from 'node:child_process';
import { dirname } from 'node:path';
import { freeLoopbackPort } from '@cairn/core/testkit';
import { CAIRN_BIN, ServerProcess } from './processes.js';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** One `cairn` command run to its end (e.g. `snapshot restore`), in `cwd`. */
export function runCairnCommand(args: readonly string[], cwd: string): Promise<CommandResult> {
  return new Promise((done) => {
    execFile(process.execPath, [CAIRN_BIN, ...args], { cwd, timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      done({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

/** The flags that make `name` the lone founder of a cluster named by `token`, at `peer`. */
export function loneFounderFlags(name: string, token: string, peer: string): string[] {
  return ['--name', name, '--initial-cluster', `${name}=${peer}`, '--initial-cluster-token', token, '--initial-advertise-peer-urls', peer];
}

/** `cairn snapshot restore FILE` into `dataDir` as the lone founder `name` (`extra`: e.g. --config-file). */
export function restoreSnapshot(
  snapshot: string,
  dataDir: string,
  member: { name: string; token: string; peer: string },
  cwd: string,
  extra: readonly string[] = [],
): Promise<CommandResult> {
  return runCairnCommand(['snapshot', 'restore', snapshot, ...extra, '--data-dir', dataDir, ...loneFounderFlags(member.name, member.token, member.peer)], cwd);
}

/** A Cairn member founding a one-member cluster on a restored data dir, on free loopback ports (`extra`: more flags). */
export async function startRestoredCairn(
  dataDir: string,
  member: { name: string; token: string; peer: string },
  extra: readonly string[] = [],
): Promise<ServerProcess> {
  const client = await freeLoopbackPort();
  return ServerProcess.start(
    'cairn',
    process.execPath,
    [
      CAIRN_BIN,
      ...extra,
      '--data-dir',
      dataDir,
      ...loneFounderFlags(member.name, member.token, member.peer),
      '--listen-peer-urls',
      member.peer,
      '--listen-client-urls',
      `http://127.0.0.1:${client}`,
      '--advertise-client-urls',
      `http://127.0.0.1:${client}`,
      '--heartbeat-interval',
      '10',
      '--election-timeout',
      '100',
    ],
    client,
    dirname(dataDir),
  );
}
