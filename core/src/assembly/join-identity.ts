import { open, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Container } from 'inversify';
import { CLOCK, type Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import { TRANSPORT, type Transport } from '../ports/transport.js';

/** The ID a cluster gave a member it added, and the cluster's ID. */
export interface JoinedIdentity {
  readonly memberId: string;
  readonly clusterId: string;
}

/**
 * Where a member that joined keeps the IDs it learned (etcd keeps them in its WAL's metadata), so a
 * restart needs nobody. A file of its own, beside whatever storage plugins the config chooses.
 */
export const JOINED_IDENTITY_FILE = 'member-identity.json';

/** What a data dir may hold before the member ever started (auto TLS certificates). */
const NOT_STATE = new Set(['fixtures']);

/** How often the log repeats that the member still waits to be addressed. */
const WAITING_LOG_MS = 10_000;

const HEX16 = /^[0-9a-f]{16}$/;

/** The identity a joined member saved, or undefined when it has none. */
export async function readJoinedIdentity(dataDir: string): Promise<JoinedIdentity | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, JOINED_IDENTITY_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = JSON.parse(text) as Partial<JoinedIdentity>;
  if (typeof parsed.memberId !== 'string' || !HEX16.test(parsed.memberId) || typeof parsed.clusterId !== 'string' || !HEX16.test(parsed.clusterId)) {
    throw new Error(`${join(dataDir, JOINED_IDENTITY_FILE)}: not a member identity (16 hex digits each for memberId and clusterId)`);
  }
  return { memberId: parsed.memberId, clusterId: parsed.clusterId };
}

/** Save `identity` durably (written aside, synced, renamed over, the directory synced). */
export async function saveJoinedIdentity(dataDir: string, identity: JoinedIdentity): Promise<void> {
  const path = join(dataDir, JOINED_IDENTITY_FILE);
  const aside = `${path}.tmp`;
  await writeFile(aside, `${JSON.stringify({ memberId: identity.memberId, clusterId: identity.clusterId })}\n`);
  const file = await open(aside, 'r+');
  try {
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(aside, path);
  const dir = await open(dataDir, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** True when the data dir holds anything a started member leaves (a missing dir holds nothing). */
export async function holdsMemberState(dataDir: string): Promise<boolean> {
  try {
    return (await readdir(dataDir)).some((name) => !NOT_STATE.has(name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Learn the ID the cluster gave this member: start the member's transport (from `container`, the
 * plugins loaded, nothing opened) without an ID and wait for the first peer that addresses a
 * message to this member's peer URL (the leader does within a heartbeat of the `member add`).
 * The transport refuses that traffic and is stopped; the member then starts under the learned IDs.
 * etcd asks the peers of `--initial-cluster` for the member list instead; a Cairn transport is not
 * always HTTP (NATS subjects), and being addressed is what every transport already carries.
 */
export async function learnIdentityFromCluster(container: Container, logger: Logger, stopRequested?: Promise<string>): Promise<JoinedIdentity> {
  const transport = container.get<Transport>(TRANSPORT);
  const clock = container.get<Clock>(CLOCK);
  let known = false;
  let learned!: (identity: JoinedIdentity) => void;
  const addressed = new Promise<JoinedIdentity>((resolve) => (learned = resolve));
  await transport.start(
    '',
    {
      onMessage: () => undefined,
      onSnapshot: () => Promise.reject(new Error('this member does not know its ID yet')),
      onAddressed: (memberId, clusterId, from) => {
        if (known || !HEX16.test(memberId) || !HEX16.test(clusterId)) return;
        known = true;
        logger.info({ member: memberId, cluster: clusterId, from }, 'learned this member ID from the cluster');
        learned({ memberId, clusterId });
      },
    },
    '',
  );
  logger.info({}, 'joining an existing cluster: waiting for its members to address this member (etcdctl member add names it)');
  const waiting = clock.setInterval(
    () => logger.warn({}, 'no member of the cluster has addressed this member yet; was it added (etcdctl member add) at this peer URL?'),
    WAITING_LOG_MS,
  );
  try {
    if (stopRequested === undefined) return await addressed;
    const stopped = stopRequested.then((why): never => {
      throw new Error(`stopped (${why}) while waiting to learn this member's ID from the cluster`);
    });
    // A stop asked for after the ID arrived rejects nobody's promise.
    stopped.catch(() => undefined);
    return await Promise.race([addressed, stopped]);
  } finally {
    waiting.cancel();
    await transport.stop();
  }
}
