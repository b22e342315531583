import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rejection } from '@cairn/core/testkit';
import { createWalLogStore } from '../src/plugin.js';
import { entry, plain } from './wal-store-fixture.js';

/**
 * The WAL on a real file system that fills up (a tmpfs of 512 KiB: the kernel's own ENOSPC, no
 * injection). Needs root to mount; skips, saying so, without it.
 */
describe('WalLogStore on a full file system (tmpfs)', function () {
  this.timeout(30_000);
  let root: string;
  let mounted = false;

  before(function () {
    root = mkdtempSync(join(tmpdir(), 'cairn-wal-full-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', root], { stdio: 'pipe' });
      mounted = true;
    } catch (err) {
      console.log(`      skipped: cannot mount a tmpfs (${(err as Error).message.split('\n')[0]})`);
      this.skip();
    }
  });
  after(() => {
    if (mounted) execFileSync('umount', [root]);
    rmSync(root, { recursive: true, force: true });
  });

  for (const inlineSyncEntries of [1, 0])
    it(`a write that meets ENOSPC rejects and so does every later one; reopened with room, the log holds every entry whose append resolved (inlineSyncEntries ${inlineSyncEntries})`, async () => {
      const directory = join(root, `wal-${inlineSyncEntries}`);
      const store = createWalLogStore(directory, { inlineSyncEntries, segmentBytes: 64 << 20 });
      await store.open();
      let acknowledged = 0;
      let failure: Error | undefined;
      for (let index = 1; index <= 1_000 && failure === undefined; index++) {
        try {
          await store.append([entry(index, 1, 4096)]);
          acknowledged = index;
        } catch (err) {
          failure = err as Error;
        }
      }
      expect(failure, 'the file system filled within 1,000 appends of 4 KiB').to.not.equal(undefined);
      expect((failure as NodeJS.ErrnoException).code).to.equal('ENOSPC');
      // The log's durability is unknown now: it refuses everything, even an append that would fit.
      expect((await rejection(store.append([entry(acknowledged + 1, 1, 1)]))).message).to.match(/a write to the log failed/);
      await store.close();

      // Room again: the torn tail is cut, the acknowledged entries are all there.
      execFileSync('mount', ['-o', 'remount,size=16m', root]);
      const reopened = createWalLogStore(directory, { inlineSyncEntries });
      await reopened.open();
      expect(reopened.lastIndex()).to.be.at.least(acknowledged);
      const read = await reopened.entries(1, acknowledged + 1);
      expect(read.map(plain)).to.deep.equal(Array.from({ length: acknowledged }, (_, i) => plain(entry(i + 1, 1, 4096))));
      await reopened.append([entry(reopened.lastIndex() + 1, 1, 4096)]);
      await reopened.close();
      rmSync(directory, { recursive: true, force: true });
      execFileSync('mount', ['-o', 'remount,size=512k', root]);
    });
});
