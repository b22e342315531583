import assert from 'node:assert/strict';
import { EtcdErrors } from '../api/errors.js';
import { AlarmAction, AlarmType } from '../api/services.js';
import type { Member } from '../assembly/member.js';
import { DurabilityError } from '../raft/durability-error.js';
import { DISK_FAULT_PLUGIN_PATH } from './disk-fault-plugin.js';
import { diskFaultsNamed, forgetDiskFaults, type DiskFault, type DiskFaults } from './faulty-storage.js';
import { MemoryLogger } from './memory/memory-logger.js';
import { TemporaryDirectories } from './temporary-directories.js';
import { startTestMember } from './test-member.js';

/** A config entry under `plugins:` (`use` and the plugin's options). */
export type StoragePluginEntry = { readonly use: string } & Readonly<Record<string, unknown>>;

export interface DiskFaultConformanceOptions {
  /**
   * The storage entries of the member's config (`storage`, `logStore`, `backend`, ...), as a user
   * writes them: each is wrapped by the disk-fault plugin, so faults reach every port they bind.
   */
  readonly plugins: Readonly<Record<string, StoragePluginEntry>>;
  /** Writers running at once (default 4). */
  readonly writers?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let members = 0;

/**
 * The member-level disk-fault suite for a storage plugin (mocha): a member assembled from the
 * config with its storage wrapped by the disk-fault plugin, writes under way, a fault injected at
 * the port. An fsync or write failure of the log is fatal (the member stops, the writes it carried
 * are not acknowledged) and a restart on the same directory has every acknowledged write; a
 * failing backend write stops the member too, and the restart replays what the log holds; a slow
 * fsync only delays; a file system about to fill raises NOSPACE, reads and deletes go on, and
 * after space returns and the alarm is disarmed writes work again.
 */
export function diskFaultConformance(name: string, options: DiskFaultConformanceOptions): void {
  describe(`${name}: disk faults at the storage ports`, function () {
    this.timeout(60_000);
    const directories = new TemporaryDirectories('cairn-disk-faults');
    after(() => directories.removeAll());

    /** A member on `dataDir` whose storage faults are reached through the returned DiskFaults. */
    async function start(dataDir: string): Promise<{ member: Member; faults: DiskFaults; label: string }> {
      const label = `disk-faults-${process.pid}-${++members}`;
      const plugins: Record<string, unknown> = {};
      for (const [key, { use, ...rest }] of Object.entries(options.plugins)) {
        plugins[key] = { use: DISK_FAULT_PLUGIN_PATH, wrap: use, options: rest, faults: label };
      }
      const faults = diskFaultsNamed(label);
      // The member's fatal error is asserted on, not printed.
      const member = await startTestMember({ dataDir, config: { plugins }, logger: new MemoryLogger({ level: 'warn', capacity: 200 }) });
      return { member, faults, label };
    }

    async function stop(running: { member: Member; label: string }): Promise<void> {
      await running.member.stop().catch(() => undefined);
      forgetDiskFaults(running.label);
    }

    async function put(member: Member, key: string): Promise<void> {
      await member.services.kv.put({ key: encoder.encode(key), value: encoder.encode(`value of ${key}`) });
    }

    /**
     * Writers put distinct keys until each has seen a failure; once `armAfter` puts are
     * acknowledged `fault` is armed. Resolves with the keys whose put resolved.
     */
    async function writeThrough(member: Member, faults: DiskFaults, fault: DiskFault, armAfter: number): Promise<{ acked: string[]; failures: Error[] }> {
      const acked: string[] = [];
      const failures: Error[] = [];
      let armed = false;
      const deadline = Date.now() + 20_000;
      const writer = async (w: number): Promise<void> => {
        for (let i = 0; Date.now() < deadline; i++) {
          const key = `fault/${w}/${String(i).padStart(6, '0')}`;
          try {
            await put(member, key);
            acked.push(key);
          } catch (err) {
            failures.push(err as Error);
            return;
          }
          if (!armed && acked.length >= armAfter) {
            armed = true;
            faults.arm(fault);
          }
        }
      };
      await Promise.all(Array.from({ length: options.writers ?? 4 }, (_, w) => writer(w)));
      return { acked, failures };
    }

    async function haltedWithin(member: Member, ms: number): Promise<void> {
      const deadline = Date.now() + ms;
      while (!member.node.isHalted && Date.now() < deadline) await sleep(10);
      assert.ok(member.node.isHalted, `the member did not stop within ${ms} ms of the fault`);
    }

    /** Every key in `acked` reads back from a member restarted on `dataDir`, which then takes writes again. */
    async function assertRecovered(dataDir: string, acked: readonly string[]): Promise<void> {
      const again = await start(dataDir);
      try {
        const read = await again.member.services.kv.range({ key: encoder.encode('fault/'), rangeEnd: encoder.encode('fault0') });
        const present = new Set(read.kvs.map((kv) => decoder.decode(kv.key)));
        const lost = acked.filter((key) => !present.has(key));
        assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged writes are missing after the restart`);
        await put(again.member, 'after/restart');
      } finally {
        await stop(again);
      }
    }

    for (const kind of ['eio', 'enospc'] as const) {
      it(`a ${kind === 'eio' ? 'failed fsync (EIO)' : 'full disk (ENOSPC)'} on the Raft log stops the member, nothing unsynced is acknowledged, a restart has every acknowledged write`, async () => {
        const dataDir = await directories.make('log');
        const running = await start(dataDir);
        try {
          const { acked, failures } = await writeThrough(running.member, running.faults, { target: 'log', kind }, 40);
          await haltedWithin(running.member, 5_000);
          const fatal = running.member.node.fatalError;
          assert.ok(fatal instanceof DurabilityError, `fatal error: ${String(fatal)}`);
          assert.equal(fatal.code, kind.toUpperCase());
          assert.match(fatal.message, /Raft log append/);
          assert.ok(failures.length > 0, 'no write failed after the fault');
          assert.ok(acked.length >= 40);
          // A stopped member refuses at once, certainly without effect.
          await assert.rejects(put(running.member, 'refused/after-stop'));
          await stop(running);
          await assertRecovered(dataDir, acked);
        } finally {
          await stop(running);
        }
      });
    }

    it('a failing backend write (EIO) under the apply stops the member; the restart replays the log and has every acknowledged write', async () => {
      const dataDir = await directories.make('backend');
      const running = await start(dataDir);
      try {
        const { acked } = await writeThrough(running.member, running.faults, { target: 'backend', kind: 'eio' }, 40);
        await haltedWithin(running.member, 5_000);
        const fatal = running.member.node.fatalError;
        assert.ok(fatal instanceof DurabilityError, `fatal error: ${String(fatal)}`);
        assert.match(fatal.message, /applying entry \d+ to the state machine failed \(EIO\)/);
        await stop(running);
        await assertRecovered(dataDir, acked);
      } finally {
        await stop(running);
      }
    });

    it('a slow fsync of the log delays acknowledgements and loses nothing', async () => {
      const dataDir = await directories.make('slow');
      const running = await start(dataDir);
      try {
        await put(running.member, 'fault/slow/0');
        running.faults.arm({ target: 'log', kind: 'slow', delayMs: 150 });
        const began = Date.now();
        await put(running.member, 'fault/slow/1');
        assert.ok(Date.now() - began >= 140, `a put took ${Date.now() - began} ms under a 150 ms fsync`);
        running.faults.disarm();
        await put(running.member, 'fault/slow/2');
        assert.equal(running.member.node.isHalted, false);
        await stop(running);
        await assertRecovered(dataDir, ['fault/slow/0', 'fault/slow/1', 'fault/slow/2']);
      } finally {
        await stop(running);
      }
    });

    it('a file system about to fill raises NOSPACE: writes refused, reads and deletes served, writes again after space returns and a disarm', async () => {
      const dataDir = await directories.make('nospace');
      const running = await start(dataDir);
      const { member, faults } = running;
      try {
        for (let i = 0; i < 5; i++) await put(member, `fault/space/${i}`);
        faults.availableBytes = 1 << 20;
        // Past the quota's size cache (it reads sizes at most every 100 ms).
        await sleep(150);
        await assert.rejects(put(member, 'fault/space/refused'), (err: Error) => err.message === EtcdErrors.noSpace().message);
        const raised = await member.services.maintenance.alarm(AlarmAction.Get, '', AlarmType.None);
        assert.deepEqual(
          raised.alarms.map((a) => a.alarm),
          [AlarmType.NoSpace],
        );
        // Capped, as etcd with its quota: every member refuses puts at apply too; reads and deletes go on.
        await assert.rejects(put(member, 'fault/space/refused'), (err: Error) => err.message === EtcdErrors.noSpace().message);
        const read = await member.services.kv.range({ key: encoder.encode('fault/space/'), rangeEnd: encoder.encode('fault/space0') });
        assert.equal(read.kvs.length, 5);
        const deleted = await member.services.kv.deleteRange({ key: encoder.encode('fault/space/0') });
        assert.equal(deleted.deleted, 1);
        assert.equal(member.node.isHalted, false);

        faults.availableBytes = undefined;
        // Past the quota's size cache (it reads sizes at most every 100 ms).
        await sleep(150);
        for (const alarm of raised.alarms) await member.services.maintenance.alarm(AlarmAction.Deactivate, alarm.memberId, alarm.alarm);
        await put(member, 'fault/space/after');
        const after = await member.services.kv.range({ key: encoder.encode('fault/space/after') });
        assert.equal(after.kvs.length, 1);
      } finally {
        await stop(running);
      }
    });
  });
}
