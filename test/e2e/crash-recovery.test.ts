import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdctl } from '../compat/etcdctl.js';
import { existsSync, readdirSync } from 'node:fs';
import { ETCDCTL_BIN, freeMemberPorts, startCairn, type ServerProcess } from '../compat/processes.js';
import { RawEtcdClient } from '../compat/raw-kv-client.js';

/**
 * The durable storage configurations every crash test runs on. The first is the default (the log
 * in @cairn/storage-wal, the rest in LMDB) with segments small and snapshots frequent, so the
 * crashes land among segment rolls and the deletions that compactions make.
 */
const STORAGE_CONFIGS = [
  {
    label: '@cairn/storage-wal log, 16 KiB segments, a snapshot every 100 entries',
    yaml: 'plugins:\n  logStore: { use: "@cairn/storage-wal", segmentBytes: 16384 }\n',
    flags: ['--snapshot-count', '100', '--snapshot-catchup-entries', '50'],
    walDirectory: 'wal',
  },
  { label: '@cairn/storage-lmdb', yaml: 'plugins:\n  storage: { use: "@cairn/storage-lmdb" }\n', flags: [] },
  { label: '@cairn/storage-leveldb', yaml: 'plugins:\n  storage: { use: "@cairn/storage-leveldb" }\n', flags: [] },
] as const;
const CRASHES = 20;
const WRITERS = 4;
const PREFIX = 'crash/';
const WRITE_PAUSE_MS = 10;

/** A small seeded generator (mulberry32), so a failing run can be replayed by its seed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const text = (b: unknown): string => Buffer.from(b as Uint8Array).toString();

interface StoredKey {
  readonly key: string;
  readonly value: string;
  readonly modRevision: number;
}

/** Every key under PREFIX with its value and mod revision, read linearizably; retried while the member elects itself. */
async function readAll(client: RawEtcdClient): Promise<{ revision: number; keys: StoredKey[] }> {
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await client.call('kv', 'Range', { key: Buffer.from(PREFIX), range_end: Buffer.from('crash0') });
      const kvs = r['kvs'] as { key: Buffer; value: Buffer; mod_revision: string }[];
      return {
        revision: Number((r['header'] as { revision: string }).revision),
        keys: kvs.map((kv) => ({ key: text(kv.key), value: text(kv.value), modRevision: Number(kv.mod_revision) })),
      };
    } catch (err) {
      if (attempt > 100) throw err;
      await sleep(100);
    }
  }
}

for (const storage of STORAGE_CONFIGS)
  describe(`kill -9 under write load (${storage.label})`, function () {
    this.timeout(300_000);
    let dir: string;
    const started: ServerProcess[] = [];

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'cairn-crash-'));
    });
    after(async () => {
      for (const p of started) await p.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it(`keeps every acknowledged write, with its revision, across ${CRASHES} crashes`, async () => {
      const seed = Number(process.env['CAIRN_CRASH_SEED'] ?? 20261201);
      const random = seeded(seed);
      const config = join(dir, 'cairn.yaml');
      await writeFile(config, storage.yaml);
      const ports = await freeMemberPorts();
      const dataDir = join(dir, 'data');
      const start = async (): Promise<ServerProcess> => {
        const p = await startCairn(dataDir, ['--config-file', config, '--log-level', 'warn', ...storage.flags], ports);
        started.push(p);
        return p;
      };
      const endpoint = `127.0.0.1:${ports.client}`;

      const acknowledged = new Map<string, { value: string; revision: number }>();
      let running = true;
      let highestAcknowledged = 0;
      const writer = async (id: number): Promise<void> => {
        const client = new RawEtcdClient(endpoint);
        for (let seq = 0; running; seq++) {
          const key = `${PREFIX}${id}/${String(seq).padStart(6, '0')}`;
          const value = `v${seed}-${id}-${seq}`;
          try {
            const r = await client.call('kv', 'Put', { key: Buffer.from(key), value: Buffer.from(value) });
            const revision = Number((r['header'] as { revision: string }).revision);
            acknowledged.set(key, { value, revision });
            highestAcknowledged = Math.max(highestAcknowledged, revision);
            // A steady load, not a flood: the store stays small enough to read back whole after every crash.
            await sleep(WRITE_PAUSE_MS);
          } catch {
            await sleep(20); // in doubt: the member may have died before or after the write committed
          }
        }
        client.close();
      };

      let server = await start();
      const writers = Array.from({ length: WRITERS }, (_, i) => writer(i));
      const checker = new RawEtcdClient(endpoint);
      try {
        for (let crash = 1; crash <= CRASHES; crash++) {
          await sleep(200 + Math.floor(random() * 1000));
          const before = highestAcknowledged;
          await server.kill();
          server = await start();
          // The writers go on: only what was acknowledged before the read began must be in it.
          const mustSee = new Map(acknowledged);
          const { revision, keys } = await readAll(checker);
          const stored = new Map(keys.map((k) => [k.key, k]));
          for (const [key, ack] of mustSee) {
            const found = stored.get(key);
            expect(found, `crash ${crash} (seed ${seed}): acknowledged ${key} is present`).to.not.equal(undefined);
            expect([found!.value, found!.modRevision], `crash ${crash}: ${key} has its acknowledged value and revision`).to.deep.equal([
              ack.value,
              ack.revision,
            ]);
          }
          expect(revision, `crash ${crash}: the revision did not go back`).to.be.at.least(before);
        }
      } finally {
        running = false;
        await Promise.all(writers);
      }

      // Each write was a put of a new key, so the revisions in the store are exactly 2..current:
      // nothing committed was lost, nothing was applied twice.
      const final = await readAll(checker);
      checker.close();
      const revisions = final.keys.map((k) => k.modRevision).sort((a, b) => a - b);
      expect(revisions).to.deep.equal(Array.from({ length: final.revision - 1 }, (_, i) => i + 2));
      expect(acknowledged.size, 'the load made progress between crashes').to.be.greaterThan(CRASHES * 5);
      if ('walDirectory' in storage) {
        // The crashes did land among rolls and deletions: segment 1 is long gone, several were begun.
        const segments = readdirSync(join(dataDir, storage.walDirectory))
          .filter((n) => n.endsWith('.wal'))
          .sort();
        expect(Number.parseInt(segments[0]!, 16), `the oldest segment left (of ${segments.join(', ')})`).to.be.greaterThan(1);
      }

      // Replaying that history, in revision order, into a fresh member gives the same HashKV.
      const replay = await startCairn(join(dir, 'replay'), ['--log-level', 'warn']);
      started.push(replay);
      const replayClient = new RawEtcdClient(replay.endpoint);
      for (const k of [...final.keys].sort((a, b) => a.modRevision - b.modRevision)) {
        await replayClient.call('kv', 'Put', { key: Buffer.from(k.key), value: Buffer.from(k.value) });
      }
      replayClient.close();
      const hashOf = async (at: string): Promise<{ hash: number; revision: number }> => {
        if (!existsSync(ETCDCTL_BIN)) {
          console.log(`      (no ${ETCDCTL_BIN}: HashKV compared over gRPC instead of with etcdctl endpoint hashkv)`);
          const client = new RawEtcdClient(at);
          const h = await client.call('maintenance', 'HashKV', { revision: 0 });
          client.close();
          return { hash: Number(h['hash']), revision: Number((h['header'] as { revision: string }).revision) };
        }
        const r = await etcdctl(at, ['endpoint', 'hashkv', '-w', 'json']);
        expect(r.code, r.stderr).to.equal(0);
        const h = (JSON.parse(r.stdout) as { HashKV: { hash: number; header: { revision: number } } }[])[0]!.HashKV;
        return { hash: h.hash, revision: h.header.revision };
      };
      expect(await hashOf(endpoint)).to.deep.equal(await hashOf(replay.endpoint));
    });
  });
