import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { expect } from 'chai';
import { BoltFileReader, CorruptBoltFileError, type BoltBucketReader, type BoltEntry } from '../../src/etcd-snapshot/bolt-file-reader.js';
import { fnv1a64, writeBoltFile, type BoltBucket } from '../../src/etcd-snapshot/bolt-file-writer.js';

// Page layout facts the tests poke at (little-endian).
const PAGE = 4096;
const HEADER = 16;
const ELEMENT = 16;
const BRANCH = 0x01;
const LEAF = 0x02;
const META = 0x04;
const FREELIST = 0x10;
const BUCKET_FLAG = 0x01;

type Pairs = Array<readonly [Buffer, Buffer]>;

function bucketOf(name: string, pairs: Pairs): BoltBucket {
  return {
    name: Buffer.from(name),
    async *entries() {
      yield* pairs;
    },
  };
}

async function writeFileOf(path: string, buckets: BoltBucket[]): Promise<Buffer> {
  await pipeline(Readable.from(writeBoltFile(buckets)), createWriteStream(path));
  return readFile(path);
}

async function collect(bucket: BoltBucketReader): Promise<BoltEntry[]> {
  const out: BoltEntry[] = [];
  for await (const entry of bucket.entries()) out.push(entry);
  return out;
}

async function readAll(path: string): Promise<Map<string, BoltEntry[]>> {
  const reader = await BoltFileReader.open(path);
  try {
    const buckets = new Map<string, BoltEntry[]>();
    for (const entry of await collect(reader.root)) {
      expect(entry.isBucket, `${entry.key.toString()} is a bucket`).to.equal(true);
      buckets.set(entry.key.toString(), await collect(reader.root.nested(entry)));
    }
    return buckets;
  } finally {
    await reader.close();
  }
}

function expectEntries(actual: readonly BoltEntry[] | undefined, expected: Pairs): void {
  expect(actual, 'bucket present').to.not.equal(undefined);
  expect(actual!.length, 'entry count').to.equal(expected.length);
  expected.forEach(([key, value], i) => {
    expect(actual![i]!.key.equals(key), `key ${i}`).to.equal(true);
    expect(actual![i]!.value.equals(value), `value ${i}`).to.equal(true);
    expect(actual![i]!.isBucket, `entry ${i} is a value`).to.equal(false);
  });
}

/** Refusal of `path`: a CorruptBoltFileError whose message names the file and matches `pattern`. */
async function expectRefused(path: string, pattern: RegExp, read: (reader: BoltFileReader) => Promise<unknown> = (r) => collectEverything(r)): Promise<void> {
  let error: unknown;
  try {
    const reader = await BoltFileReader.open(path);
    try {
      await read(reader);
    } finally {
      await reader.close();
    }
  } catch (err) {
    error = err;
  }
  expect(error, `reading ${path} fails`).to.be.instanceOf(CorruptBoltFileError);
  expect((error as Error).message)
    .to.contain(path)
    .and.to.match(pattern);
}

async function collectEverything(reader: BoltFileReader): Promise<number> {
  let n = 0;
  for (const entry of await collect(reader.root)) {
    n++;
    if (entry.isBucket) n += (await collect(reader.root.nested(entry))).length;
  }
  return n;
}

/** Page ids of every page with `flags` (skipping overflow pages), from the headers. */
function pagesWithFlags(file: Buffer, flags: number): number[] {
  const ids: number[] = [];
  for (let id = 0; id < file.length / PAGE;) {
    const header = file.subarray(id * PAGE, id * PAGE + HEADER);
    if (header.readUInt16LE(8) === flags) ids.push(id);
    id += 1 + header.readUInt32LE(12);
  }
  return ids;
}

function rewriteMeta(file: Buffer, pgid: number, change: (meta: Buffer) => void): void {
  const meta = file.subarray(pgid * PAGE + HEADER, pgid * PAGE + HEADER + 64);
  change(meta);
  meta.writeBigUInt64LE(fnv1a64(meta.subarray(0, 56)), 56);
}

// ---- hand-built pages, for what the writer never produces (inline and nested buckets) ----

interface TestElement {
  readonly flags?: number;
  readonly key: Buffer;
  readonly value: Buffer;
}

function leafBytes(pgid: number, elements: readonly TestElement[], size: number): Buffer {
  const page = Buffer.alloc(size);
  page.writeBigUInt64LE(BigInt(pgid), 0);
  page.writeUInt16LE(LEAF, 8);
  page.writeUInt16LE(elements.length, 10);
  let data = HEADER + elements.length * ELEMENT;
  elements.forEach((e, i) => {
    const at = HEADER + i * ELEMENT;
    page.writeUInt32LE(e.flags ?? 0, at);
    page.writeUInt32LE(data - at, at + 4);
    page.writeUInt32LE(e.key.length, at + 8);
    page.writeUInt32LE(e.value.length, at + 12);
    e.key.copy(page, data);
    e.value.copy(page, data + e.key.length);
    data += e.key.length + e.value.length;
  });
  return page;
}

function bucketHeader(root: number): Buffer {
  const header = Buffer.alloc(16);
  header.writeBigUInt64LE(BigInt(root), 0);
  return header;
}

function metaPage(pgid: number, txid: number, root: number, highWaterMark: number): Buffer {
  const page = Buffer.alloc(PAGE);
  page.writeBigUInt64LE(BigInt(pgid), 0);
  page.writeUInt16LE(META, 8);
  const meta = page.subarray(HEADER);
  meta.writeUInt32LE(0xed0cdaed, 0);
  meta.writeUInt32LE(2, 4);
  meta.writeUInt32LE(PAGE, 8);
  meta.writeBigUInt64LE(BigInt(root), 16);
  meta.writeBigUInt64LE(2n, 32);
  meta.writeBigUInt64LE(BigInt(highWaterMark), 40);
  meta.writeBigUInt64LE(BigInt(txid), 48);
  meta.writeBigUInt64LE(fnv1a64(meta.subarray(0, 56)), 56);
  return page;
}

/**
 * root: "inline" (an inline bucket: a→1, b→2), "nested" (a bucket on page 4 holding "child", a
 * bucket on page 5 with deep→value, and x→y).
 */
function nestedBucketFile(): Buffer {
  const inlinePage = leafBytes(
    0,
    [
      { key: Buffer.from('a'), value: Buffer.from('1') },
      { key: Buffer.from('b'), value: Buffer.from('2') },
    ],
    HEADER + 2 * ELEMENT + 4,
  );
  const freelist = Buffer.alloc(PAGE);
  freelist.writeBigUInt64LE(2n, 0);
  freelist.writeUInt16LE(FREELIST, 8);
  return Buffer.concat([
    metaPage(0, 6, 3, 6),
    metaPage(1, 7, 3, 6),
    freelist,
    leafBytes(
      3,
      [
        { flags: BUCKET_FLAG, key: Buffer.from('inline'), value: Buffer.concat([bucketHeader(0), inlinePage]) },
        { flags: BUCKET_FLAG, key: Buffer.from('nested'), value: bucketHeader(4) },
      ],
      PAGE,
    ),
    leafBytes(
      4,
      [
        { flags: BUCKET_FLAG, key: Buffer.from('child'), value: bucketHeader(5) },
        { key: Buffer.from('x'), value: Buffer.from('y') },
      ],
      PAGE,
    ),
    leafBytes(5, [{ key: Buffer.from('deep'), value: Buffer.from('value') }], PAGE),
  ]);
}

describe('BoltFileReader', function () {
  this.timeout(60_000);
  let dir: string;
  /** 10,000 pairs of ~300 bytes: three levels, several branch pages. */
  const manyPairs: Pairs = [];
  for (let i = 0; i < 10_000; i++) manyPairs.push([Buffer.from(`/registry/item-${String(i).padStart(6, '0')}`), Buffer.alloc(280, 0x61 + (i % 26))]);
  let manyPath: string;
  let manyFile: Buffer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-bolt-reader-'));
    manyPath = join(dir, 'many.db');
    manyFile = await writeFileOf(manyPath, [bucketOf('many', manyPairs), bucketOf('meta', [[Buffer.from('k'), Buffer.from('v')]])]);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('reads what the writer writes', () => {
    it('an empty file with no buckets', async () => {
      const path = join(dir, 'none.db');
      await writeFileOf(path, []);
      expect((await readAll(path)).size).to.equal(0);
    });

    it('several buckets, an empty one among them, and the page size and txid of the newest meta page', async () => {
      const path = join(dir, 'several.db');
      const alpha: Pairs = [
        [Buffer.from('a'), Buffer.from('1')],
        [Buffer.from('b'), Buffer.alloc(0)],
        [Buffer.from('c'), Buffer.from('333')],
      ];
      await writeFileOf(path, [bucketOf('alpha', alpha), bucketOf('beta', []), bucketOf('gamma', [[Buffer.from('z'), Buffer.from('zz')]])]);
      const buckets = await readAll(path);
      expect([...buckets.keys()]).to.deep.equal(['alpha', 'beta', 'gamma']);
      expectEntries(buckets.get('alpha'), alpha);
      expectEntries(buckets.get('beta'), []);
      const reader = await BoltFileReader.open(path);
      expect([reader.pageSize, reader.txid]).to.deep.equal([4096, 1n]);
      await reader.close();
    });

    it('10,000 records over a tree of three levels, in order, and looks any of them up', async () => {
      expect(pagesWithFlags(manyFile, BRANCH).length, 'branch pages').to.be.greaterThan(1);
      const buckets = await readAll(manyPath);
      expectEntries(buckets.get('many'), manyPairs);
      const reader = await BoltFileReader.open(manyPath);
      try {
        const many = await reader.root.bucket(Buffer.from('many'));
        for (const i of [0, 1, 4999, 7777, 9999]) {
          const [key, value] = manyPairs[i]!;
          expect((await many!.get(key))?.value.equals(value), `get ${key.toString()}`).to.equal(true);
        }
        expect(await many!.get(Buffer.from('/registry/item-'))).to.equal(undefined);
        expect(await many!.get(Buffer.from('/registry/item-0099999'))).to.equal(undefined);
        expect(await many!.get(Buffer.from('zzz'))).to.equal(undefined);
        expect(await reader.root.bucket(Buffer.from('absent'))).to.equal(undefined);
      } finally {
        await reader.close();
      }
    });

    it('values on overflow pages, and branch pages with very long keys on overflow pages', async () => {
      const big: Pairs = [];
      for (let i = 0; i < 30; i++) big.push([Buffer.from(`big-${String(i).padStart(3, '0')}`), Buffer.alloc(20 * 1024 + i * 1000, i)]);
      const long: Pairs = [];
      for (let i = 0; i < 40; i++) long.push([Buffer.concat([Buffer.from(String(i).padStart(3, '0')), Buffer.alloc(5000, 0x6b)]), Buffer.from(`${i}`)]);
      const path = join(dir, 'overflow.db');
      await writeFileOf(path, [bucketOf('big', big), bucketOf('long', long)]);
      const buckets = await readAll(path);
      expectEntries(buckets.get('big'), big);
      expectEntries(buckets.get('long'), long);
    });

    it('a value larger than the read-ahead window', async () => {
      const huge: Pairs = [
        [Buffer.from('huge'), Buffer.alloc(3 * 1024 * 1024, 7)],
        [Buffer.from('small'), Buffer.from('s')],
      ];
      const path = join(dir, 'huge.db');
      await writeFileOf(path, [bucketOf('huge', huge)]);
      expectEntries((await readAll(path)).get('huge'), huge);
    });

    it('inline buckets and buckets nested in buckets, as bbolt writes them', async () => {
      const path = join(dir, 'nested.db');
      await writeFile(path, nestedBucketFile());
      const reader = await BoltFileReader.open(path);
      try {
        expect(reader.txid).to.equal(7n);
        const inline = await reader.root.bucket(Buffer.from('inline'));
        expectEntries(await collect(inline!), [
          [Buffer.from('a'), Buffer.from('1')],
          [Buffer.from('b'), Buffer.from('2')],
        ]);
        expect((await inline!.get(Buffer.from('b')))?.value.toString()).to.equal('2');
        const nested = await reader.root.bucket(Buffer.from('nested'));
        const entries = await collect(nested!);
        expect(entries.map((e) => [e.key.toString(), e.isBucket])).to.deep.equal([
          ['child', true],
          ['x', false],
        ]);
        const child = await nested!.bucket(Buffer.from('child'));
        expectEntries(await collect(child!), [[Buffer.from('deep'), Buffer.from('value')]]);
        let error: unknown;
        await nested!.bucket(Buffer.from('x')).catch((e: unknown) => {
          error = e;
        });
        expect((error as Error).message).to.match(/holds a value, not a bucket/);
      } finally {
        await reader.close();
      }
    });
  });

  describe('picks the meta page as bbolt does', () => {
    it('the valid one with the higher txid', async () => {
      const file = Buffer.from(manyFile);
      rewriteMeta(file, 0, (meta) => meta.writeBigUInt64LE(9n, 48));
      const path = join(dir, 'meta-txid.db');
      await writeFile(path, file);
      const reader = await BoltFileReader.open(path);
      expect(reader.txid).to.equal(9n);
      await reader.close();
    });

    it('the other one when one checksum does not match', async () => {
      const file = Buffer.from(manyFile);
      file[PAGE + HEADER + 48] ^= 0xff; // meta 1's txid, checksum left stale
      const path = join(dir, 'meta-checksum.db');
      await writeFile(path, file);
      const reader = await BoltFileReader.open(path);
      expect(reader.txid).to.equal(0n);
      expect(await collectEverything(reader)).to.equal(2 + manyPairs.length + 1);
      await reader.close();
    });
  });

  describe('refuses damaged files with an error naming the file', () => {
    const damaged = async (name: string, change: (file: Buffer) => Buffer | void): Promise<string> => {
      const file = Buffer.from(manyFile);
      const changed = change(file) ?? file;
      const path = join(dir, `${name}.db`);
      await writeFile(path, changed);
      return path;
    };

    it('a file that is not a bbolt database', async () => {
      const text = join(dir, 'text.db');
      await writeFile(text, 'this is not a database\n'.repeat(400));
      await expectRefused(text, /no valid meta page .*bad magic number/);
      const tiny = join(dir, 'tiny.db');
      await writeFile(tiny, 'short');
      await expectRefused(tiny, /too small \(5 bytes\)/);
    });

    it('both meta pages damaged', async () => {
      const path = await damaged('both-metas', (file) => {
        file[HEADER + 20] ^= 1;
        file[PAGE + HEADER + 20] ^= 1;
      });
      await expectRefused(path, /no valid meta page \(page 0: checksum mismatch; page 1: checksum mismatch\)/);
    });

    it('a truncated file', async () => {
      const path = await damaged('truncated', (file) => file.subarray(0, Math.floor(file.length / PAGE / 2) * PAGE));
      await expectRefused(path, /truncated: its meta page describes \d+ pages of 4096 bytes/);
      const cut = await damaged('cut-in-a-page', (file) => file.subarray(0, file.length - 100));
      await expectRefused(cut, /truncated/);
    });

    it('a page whose header carries another id', async () => {
      const leaf = pagesWithFlags(manyFile, LEAF)[10]!;
      const path = await damaged('page-id', (file) => {
        file.writeBigUInt64LE(12345n, leaf * PAGE);
      });
      await expectRefused(path, new RegExp(`page ${leaf} carries the id 12345`));
    });

    it('a page that is neither branch nor leaf inside a tree', async () => {
      const leaf = pagesWithFlags(manyFile, LEAF)[10]!;
      const path = await damaged('page-flags', (file) => {
        file.writeUInt16LE(FREELIST, leaf * PAGE + 8);
      });
      await expectRefused(path, /has flags 0x10, not a branch or a leaf/);
    });

    it('an element pointing past the end of its page', async () => {
      const leaf = pagesWithFlags(manyFile, LEAF)[10]!;
      const path = await damaged('element-bounds', (file) => {
        file.writeUInt32LE(1 << 20, leaf * PAGE + HEADER + 12);
      });
      await expectRefused(path, /points past the end of its page/);
    });

    it('more elements than fit in the page', async () => {
      const leaf = pagesWithFlags(manyFile, LEAF)[10]!;
      const path = await damaged('element-count', (file) => {
        file.writeUInt16LE(0xffff, leaf * PAGE + 10);
      });
      await expectRefused(path, /claims 65535 elements/);
    });

    it('keys out of order (two children of a branch swapped)', async () => {
      const branch = pagesWithFlags(manyFile, BRANCH)[0]!;
      const path = await damaged('order', (file) => {
        const first = branch * PAGE + HEADER + 8;
        const second = first + ELEMENT;
        const a = file.readBigUInt64LE(first);
        file.writeBigUInt64LE(file.readBigUInt64LE(second), first);
        file.writeBigUInt64LE(a, second);
      });
      await expectRefused(path, /keys out of order in bucket "many"/);
    });

    it('a branch that points back at itself (a cycle)', async () => {
      const branch = pagesWithFlags(manyFile, BRANCH)[0]!;
      const path = await damaged('cycle', (file) => {
        file.writeBigUInt64LE(BigInt(branch), branch * PAGE + HEADER + ELEMENT + 8);
      });
      await expectRefused(path, new RegExp(`page ${branch} is reached twice`));
    });

    it('a child beyond the end of the file, also on a lookup', async () => {
      const branch = pagesWithFlags(manyFile, BRANCH)[0]!;
      const path = await damaged('far-child', (file) => {
        file.writeBigUInt64LE(1_000_000n, branch * PAGE + HEADER + 8);
      });
      await expectRefused(path, /refers to page 1000000, outside the tree pages/);
      await expectRefused(path, /refers to page 1000000/, async (reader) => (await reader.root.bucket(Buffer.from('many')))!.get(manyPairs[0]![0]));
    });

    it('leaves at different depths', async () => {
      // The tree's root (the last branch page written) skips a level: its last child becomes
      // that child's own first leaf.
      const top = pagesWithFlags(manyFile, BRANCH).at(-1)!;
      const path = await damaged('depth', (file) => {
        const lastChild = top * PAGE + HEADER + (file.readUInt16LE(top * PAGE + 10) - 1) * ELEMENT + 8;
        const bottom = Number(file.readBigUInt64LE(lastChild));
        file.writeBigUInt64LE(file.readBigUInt64LE(bottom * PAGE + HEADER + 8), lastChild);
      });
      await expectRefused(path, /is a leaf at depth 2, others are at 3/);
    });
  });
});
