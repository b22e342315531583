import { expect } from 'chai';
import { analyseFsyncOrdering, type FsyncOrderingAnalysis } from '../../src/testkit/conformance/storage/fsync-ordering-rule.js';
import { parseStraceOutput } from '../../src/testkit/conformance/storage/strace-trace.js';

// Hand-written traces in the shape `strace -f -y` prints, modelled on what LMDB, LevelDB and plain
// file stores were seen doing on this machine.
const D = '/tmp/store';
const analyse = (lines: string[]): FsyncOrderingAnalysis =>
  analyseFsyncOrdering(parseStraceOutput(lines.join('\n')), { directory: D, cwd: '/work', tagOf: (n) => `TAG${n}-` });
const problems = (lines: string[]): string[] => analyse(lines).violations.map((v) => v.problem);

describe('fsync ordering rule', () => {
  it('accepts LMDB: pages written, fdatasync, then the meta page through an O_DSYNC fd', () => {
    const a = analyse([
      `10 openat(AT_FDCWD</work>, "${D}/data.mdb", O_RDWR|O_CREAT, 0664) = 19<${D}/data.mdb>`,
      `10 openat(AT_FDCWD</work>, "${D}/data.mdb", O_WRONLY|O_DSYNC|O_CLOEXEC) = 20<${D}/data.mdb>`,
      `11 writev(19<${D}/data.mdb>, [{iov_base="..TAG1-TAG1-..", iov_len=4096}], 1) = 4096`,
      `11 pwrite64(19<${D}/data.mdb>, "\\0\\0\\2", 128, 40) = 128`,
      `11 fdatasync(19<${D}/data.mdb>)   = 0`,
      `11 pwrite64(20<${D}/data.mdb>, "\\0\\0\\2", 128, 2088) = 128`,
      '10 write(1<pipe:[9]>, "ack 1\\n", 6) = 6',
    ]);
    expect(a.violations).to.deep.equal([]);
    expect([a.acks, a.byData]).to.deep.equal([[1], 1]);
  });

  it('accepts LevelDB: the WAL fdatasynced before the ack, an unsynced info LOG and a background table aside', () => {
    expect(
      problems([
        `10 write(20<${D}/000003.log>, "hdrTAG1-TAG1-", 93) = 93`,
        `12 write(18<${D}/LOG>, "2026/12/01 Delete type=3 #1", 27) = 27`,
        `10 fdatasync(20<${D}/000003.log>) = 0`,
        `13 write(22<${D}/000005.ldb>, "table", 5) = 5`,
        '9 write(1<socket:[5]>, "ack 1\\n", 6) = 6',
      ]),
    ).to.deep.equal([]);
  });

  it('refuses an ack written between write(2) and fdatasync, naming the file and both lines', () => {
    const found = problems([
      `10 write(20<${D}/log.dat>, "TAG1-TAG1-", 10) = 10`,
      '9 write(1<pipe:[9]>, "ack 1\\n", 6) = 6',
      `11 fdatasync(20<${D}/log.dat>) = 0`,
    ]);
    expect(found).to.have.length(1);
    expect(found[0]).to.match(
      /ack 1 \(line 2: .*\) came before \/tmp\/store\/log\.dat was synced after its last write \(line 1: .*\); the next sync of it came after the ack \(line 3: /,
    );
  });

  it('refuses a sync that started before the write returned (threads interleaved, unfinished and resumed)', () => {
    expect(
      problems([
        `10 write(20<${D}/log.dat>, "TAG1-TAG1-", 10 <unfinished ...>`,
        `11 fdatasync(20<${D}/log.dat>) = 0`,
        '10 <... write resumed>) = 10',
        '9 write(1<pipe:[9]>, "ack 1\\n", 6) = 6',
      ]),
    ).to.have.length(1);
    expect(
      problems([
        `10 write(20<${D}/log.dat>, "TAG1-TAG1-", 10 <unfinished ...>`,
        '10 <... write resumed>) = 10',
        `11 fdatasync(20<${D}/log.dat> <unfinished ...>`,
        '11 <... fdatasync resumed>) = 0',
        '9 write(1<pipe:[9]>, "ack 1\\n", 6) = 6',
      ]),
    ).to.deep.equal([]);
  });

  it('refuses an ack written before any write of its data', () => {
    expect(
      problems(['9 write(1<pipe:[9]>, "ack 1\\n", 6) = 6', `10 write(20<${D}/log.dat>, "TAG1-", 5) = 5`, `10 fdatasync(20<${D}/log.dat>) = 0`])[0],
    ).to.match(/ack 1 .* was written before any write of its data/);
  });

  it('accepts msync(MS_SYNC) of a shared mapping (LMDB writemap), refuses MS_ASYNC and sync_file_range alone', () => {
    const mapped = [`10 mmap(NULL, 131072, PROT_READ|PROT_WRITE, MAP_SHARED, 19<${D}/data.mdb>, 0) = 0x7f0000000000`];
    const ok = analyse([...mapped, '10 msync(0x7f0000001000, 4096, MS_SYNC) = 0', '9 write(1<pipe:[9]>, "ack 1\\n", 6) = 6']);
    expect([ok.violations, ok.bySyncOnly]).to.deep.equal([[], 1]);
    expect(problems([...mapped, '10 msync(0x7f0000001000, 4096, MS_ASYNC) = 0', '9 write(1<pipe:[9]>, "ack 1\\n", 6) = 6'])[0]).to.match(
      /no file in the store was fsynced/,
    );
    const ranged = [
      `10 write(20<${D}/log.dat>, "TAG1-", 5) = 5`,
      `10 sync_file_range(20<${D}/log.dat>, 0, 5, SYNC_FILE_RANGE_WRITE|SYNC_FILE_RANGE_WAIT_AFTER) = 0`,
    ];
    expect(problems([...ranged, '9 write(1<pipe:[9]>, "ack 1\\n", 6) = 6'])).to.have.length(1);
    expect(problems([...ranged, `10 fdatasync(20<${D}/log.dat>) = 0`, '9 write(1<pipe:[9]>, "ack 1\\n", 6) = 6'])).to.deep.equal([]);
  });

  it('needs the directory fsynced after data was renamed into place, and follows the file across the rename', () => {
    const written = [
      `10 openat(AT_FDCWD</work>, "${D}/stable.tmp", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666) = 19<${D}/stable.tmp>`,
      `10 write(19<${D}/stable.tmp>, "{\\"vote\\":\\"TAG1-\\"}", 16) = 16`,
      `10 rename("${D}/stable.tmp", "${D}/stable") = 0`,
      `10 fdatasync(19<${D}/stable>)     = 0`,
    ];
    expect(problems([...written, '9 write(1<pipe:[9]>, "ack 1\\n", 6) = 6'])[0]).to.match(
      /came before \/tmp\/store was fsynced after its data was renamed into it/,
    );
    expect(
      problems([
        ...written,
        `10 openat(AT_FDCWD</work>, "${D}", O_RDONLY) = 20<${D}>`,
        `10 fsync(20<${D}>)             = 0`,
        '9 write(1<pipe:[9]>, "ack 1\\n", 6) = 6',
      ]),
    ).to.deep.equal([]);
  });

  it('takes writes through an O_DSYNC fd and pwritev2 with RWF_DSYNC as durable when they return', () => {
    expect(
      problems([
        `10 openat(AT_FDCWD</work>, "${D}/wal", O_WRONLY|O_CREAT|O_DSYNC, 0666) = 19<${D}/wal>`,
        `10 write(19<${D}/wal>, "TAG1-", 5) = 5`,
        `10 pwritev2(21<${D}/other>, [{iov_base="TAG1-", iov_len=5}], 1, 0, RWF_DSYNC) = 5`,
        '9 write(1<pipe:[9]>, "ack 1\\n", 6) = 6',
      ]),
    ).to.deep.equal([]);
    expect(
      problems([
        `10 openat(AT_FDCWD</work>, "${D}/wal", O_WRONLY|O_CREAT|O_DSYNC, 0666) = 19<${D}/wal>`,
        `10 close(19<${D}/wal>) = 0`,
        `10 openat(AT_FDCWD</work>, "${D}/wal", O_WRONLY) = 19<${D}/wal>`,
        `10 write(19<${D}/wal>, "TAG1-", 5) = 5`,
        '9 write(1<pipe:[9]>, "ack 1\\n", 6) = 6',
      ]),
    ).to.have.length(1);
  });

  it('needs a sync after each ack for operations whose bytes it cannot see', () => {
    const found = analyse([
      `10 write(20<${D}/log.dat>, "TAG1-", 5) = 5`,
      `10 fdatasync(20<${D}/log.dat>) = 0`,
      '9 write(1<pipe:[9]>, "ack 1\\n", 6) = 6',
      `10 write(20<${D}/log.dat>, "truncate", 8) = 8`,
      '9 write(1<pipe:[9]>, "ack 2\\n", 6) = 6',
    ]);
    expect(found.violations.map((v) => v.ack)).to.deep.equal([2]);
  });

  it('parses quoted data holding ") = " and strace padding', () => {
    const calls = parseStraceOutput(`7 write(3<${D}/x>, "a) = 5 b", 8) = 8\n7 fsync(3<${D}/x>)          = 0\n7 +++ exited with 0 +++`);
    expect(calls.map((c) => [c.name, c.result])).to.deep.equal([
      ['write', '8'],
      ['fsync', '0'],
    ]);
  });
});
