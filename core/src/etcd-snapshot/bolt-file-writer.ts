/**
 * Streams a bbolt (go.etcd.io/bbolt) database file, page by page, from sorted buckets.
 *
 * File layout written here (all integers little-endian, as bbolt writes them on amd64/arm64):
 *   page 0, 1   meta pages (identical except page id and txid; both carry valid checksums)
 *   page 2      freelist page with an empty list (nothing is free in a freshly packed file)
 *   page 3...   each bucket's B+tree in bucket order: its leaf pages in key order, then its
 *               branch levels bottom-up, the bucket's root page last
 *   last pages  the root bucket's B+tree (one entry per named bucket), its root page last
 *
 * Every page header is 16 bytes: id u64, flags u16, count u16, overflow u32 (extra pages that
 * follow a page too big for one). Leaf elements are 16 bytes (flags u32, pos u32, ksize u32,
 * vsize u32), branch elements 16 bytes (pos u32, ksize u32, child pgid u64); `pos` counts from
 * the element itself to its key bytes. A branch element's key is its child's first key.
 *
 * The meta pages come first but need the root page id and the page count, so the file is
 * planned in a first pass over `entries()` (sizes only, plus one key per page of the level
 * above the leaves) and written in a second pass; memory stays at one page plus that index.
 */

export interface BoltBucket {
  /** Non-empty; buckets must be given in strictly ascending byte order of their names. */
  readonly name: Uint8Array;
  /**
   * The bucket's pairs in strictly ascending key order. Called twice (plan, then write); both
   * calls must yield the same pairs.
   */
  entries(): AsyncIterable<readonly [Uint8Array, Uint8Array]>;
}

export interface BoltFileOptions {
  /** bbolt page size in bytes; readers take it from the meta page. Default 4096. */
  readonly pageSize?: number;
}

export const BOLT_DEFAULT_PAGE_SIZE = 4096;
export const BOLT_PAGE_HEADER_SIZE = 16;
export const BOLT_ELEMENT_SIZE = 16;
export const BOLT_BUCKET_HEADER_SIZE = 16;
export const BOLT_BRANCH_PAGE = 0x01;
export const BOLT_LEAF_PAGE = 0x02;
export const BOLT_META_PAGE = 0x04;
export const BOLT_FREELIST_PAGE = 0x10;
/** Leaf element flag marking the value as a nested bucket header. */
export const BOLT_BUCKET_LEAF_FLAG = 0x01;
export const BOLT_MAGIC = 0xed0cdaed;
export const BOLT_VERSION = 2;
/** bbolt refuses longer keys (bolt.MaxKeySize). */
export const BOLT_MAX_KEY_SIZE = 32768;
/** bbolt refuses longer values (bolt.MaxValueSize). */
export const BOLT_MAX_VALUE_SIZE = 2 ** 31 - 2;

const META_PAGE_IDS = [0, 1] as const;
const FREELIST_PAGE_ID = 2;
const FIRST_DATA_PAGE_ID = 3;
/** Bytes of the meta struct covered by its checksum (everything before the checksum field). */
const META_CHECKSUM_OFFSET = 56;
/** A page's element count is a u16. */
const MAX_ELEMENTS_PER_PAGE = 0xffff;
/** Branch pages need two children to shrink the level above; bbolt's minKeysPerPage is 2 too. */
const MIN_BRANCH_ELEMENTS = 2;

interface LeafElement {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly flags: number;
}

/** One page of a level, as the level above sees it. */
interface ChildRef {
  readonly firstKey: Uint8Array;
  readonly pgid: number;
}

/** Hands out page ids in file order; the same sequence in the plan and the write pass. */
class PageAllocator {
  constructor(public next: number) {}

  allocate(pageCount: number): number {
    const id = this.next;
    this.next += pageCount;
    return id;
  }
}

/**
 * Writes the whole file. Yields page-aligned chunks; their concatenation is the database.
 * Throws if names or keys are out of order, or if `entries()` yields different data on its
 * second call (the plan would no longer match the pages).
 */
export async function* writeBoltFile(buckets: readonly BoltBucket[], options: BoltFileOptions = {}): AsyncIterable<Uint8Array> {
  const pageSize = options.pageSize ?? BOLT_DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1024 || (pageSize & (pageSize - 1)) !== 0) {
    throw new Error(`bolt page size must be a power of two >= 1024, got ${pageSize}`);
  }
  checkBucketNames(buckets);

  // Pass 1: page ids only.
  const planAllocator = new PageAllocator(FIRST_DATA_PAGE_ID);
  const plannedRoots: number[] = [];
  for (const bucket of buckets) {
    const tree = new TreeWriter(pageSize, planAllocator, false);
    for await (const _ of tree.write(bucketLeaves(bucket))) {
      /* planning yields nothing */
    }
    plannedRoots.push(tree.rootPgid);
  }
  const rootTree = new TreeWriter(pageSize, planAllocator, false);
  for await (const _ of rootTree.write(rootBucketLeaves(buckets, plannedRoots))) {
    /* idem */
  }
  const rootPgid = rootTree.rootPgid;
  const highWaterMark = planAllocator.next;

  // Pass 2: the bytes.
  for (const pgid of META_PAGE_IDS) {
    yield buildMetaPage(pageSize, pgid, { txid: pgid, rootPgid, freelistPgid: FREELIST_PAGE_ID, highWaterMark });
  }
  yield buildEmptyFreelistPage(pageSize, FREELIST_PAGE_ID);
  const allocator = new PageAllocator(FIRST_DATA_PAGE_ID);
  for (const [i, bucket] of buckets.entries()) {
    const tree = new TreeWriter(pageSize, allocator, true);
    yield* tree.write(bucketLeaves(bucket));
    if (tree.rootPgid !== plannedRoots[i]) {
      throw new Error(`bolt bucket ${describeKey(bucket.name)} changed between the plan and the write pass`);
    }
  }
  const writtenRootTree = new TreeWriter(pageSize, allocator, true);
  yield* writtenRootTree.write(rootBucketLeaves(buckets, plannedRoots));
  if (writtenRootTree.rootPgid !== rootPgid || allocator.next !== highWaterMark) {
    throw new Error('bolt file layout changed between the plan and the write pass');
  }
}

function checkBucketNames(buckets: readonly BoltBucket[]): void {
  for (const [i, bucket] of buckets.entries()) {
    if (bucket.name.length === 0 || bucket.name.length > BOLT_MAX_KEY_SIZE) {
      throw new Error(`bolt bucket name must be 1..${BOLT_MAX_KEY_SIZE} bytes, got ${bucket.name.length}`);
    }
    const previous = buckets[i - 1];
    if (previous !== undefined && Buffer.compare(previous.name, bucket.name) >= 0) {
      throw new Error(`bolt bucket names must be strictly ascending: ${describeKey(previous.name)} then ${describeKey(bucket.name)}`);
    }
  }
}

async function* bucketLeaves(bucket: BoltBucket): AsyncIterable<LeafElement> {
  let previousKey: Uint8Array | undefined;
  for await (const [key, value] of bucket.entries()) {
    if (key.length === 0 || key.length > BOLT_MAX_KEY_SIZE) {
      throw new Error(`bolt key in bucket ${describeKey(bucket.name)} must be 1..${BOLT_MAX_KEY_SIZE} bytes, got ${key.length}`);
    }
    if (value.length > BOLT_MAX_VALUE_SIZE) {
      throw new Error(`bolt value in bucket ${describeKey(bucket.name)} is too large (${value.length} bytes)`);
    }
    if (previousKey !== undefined && Buffer.compare(previousKey, key) >= 0) {
      throw new Error(`bolt keys in bucket ${describeKey(bucket.name)} must be strictly ascending: ${describeKey(previousKey)} then ${describeKey(key)}`);
    }
    previousKey = key;
    yield { key, value, flags: 0 };
  }
}

async function* rootBucketLeaves(buckets: readonly BoltBucket[], rootPgids: readonly number[]): AsyncIterable<LeafElement> {
  for (const [i, bucket] of buckets.entries()) {
    // A bucket value is its header (root pgid u64, sequence u64); root != 0 means not inline.
    const header = Buffer.alloc(BOLT_BUCKET_HEADER_SIZE);
    header.writeBigUInt64LE(BigInt(rootPgids[i] ?? 0), 0);
    yield { key: bucket.name, value: header, flags: BOLT_BUCKET_LEAF_FLAG };
  }
}

/**
 * Packs one bucket's B+tree. With `emit` false it only allocates page ids (the plan pass);
 * the packing decisions are identical either way, so both passes agree on every page id.
 */
class TreeWriter {
  private rootPage: number | undefined;

  constructor(
    private readonly pageSize: number,
    private readonly allocator: PageAllocator,
    private readonly emit: boolean,
  ) {}

  get rootPgid(): number {
    if (this.rootPage === undefined) throw new Error('bolt tree not written yet');
    return this.rootPage;
  }

  async *write(leaves: AsyncIterable<LeafElement>): AsyncGenerator<Uint8Array> {
    let level: ChildRef[] = [];
    let pending: LeafElement[] = [];
    let pendingBytes = BOLT_PAGE_HEADER_SIZE;
    for await (const leaf of leaves) {
      const elementBytes = BOLT_ELEMENT_SIZE + leaf.key.length + leaf.value.length;
      const fits = pendingBytes + elementBytes <= this.pageSize && pending.length < MAX_ELEMENTS_PER_PAGE;
      if (pending.length > 0 && !fits) {
        yield* this.flushLeafPage(pending, pendingBytes, level);
        pending = [];
        pendingBytes = BOLT_PAGE_HEADER_SIZE;
      }
      pending.push(leaf);
      pendingBytes += elementBytes;
    }
    // An empty bucket still gets one (empty) leaf page as its root.
    if (pending.length > 0 || level.length === 0) yield* this.flushLeafPage(pending, pendingBytes, level);

    while (level.length > 1) level = yield* this.writeBranchLevel(level);
    this.rootPage = level[0]?.pgid;
  }

  private *flushLeafPage(elements: readonly LeafElement[], byteSize: number, level: ChildRef[]): Generator<Uint8Array> {
    const pageCount = Math.ceil(byteSize / this.pageSize);
    const pgid = this.allocator.allocate(pageCount);
    level.push({ firstKey: elements[0]?.key ?? new Uint8Array(0), pgid });
    if (this.emit) yield buildLeafPage(this.pageSize, pgid, pageCount, elements);
  }

  private *writeBranchLevel(children: readonly ChildRef[]): Generator<Uint8Array, ChildRef[]> {
    const parents: ChildRef[] = [];
    let pending: ChildRef[] = [];
    let pendingBytes = BOLT_PAGE_HEADER_SIZE;
    const flush = (): Uint8Array | undefined => {
      const pageCount = Math.ceil(pendingBytes / this.pageSize);
      const pgid = this.allocator.allocate(pageCount);
      parents.push({ firstKey: pending[0]?.firstKey ?? new Uint8Array(0), pgid });
      return this.emit ? buildBranchPage(this.pageSize, pgid, pageCount, pending) : undefined;
    };
    for (const child of children) {
      const elementBytes = BOLT_ELEMENT_SIZE + child.firstKey.length;
      const fits = pendingBytes + elementBytes <= this.pageSize && pending.length < MAX_ELEMENTS_PER_PAGE;
      if (pending.length >= MIN_BRANCH_ELEMENTS && !fits) {
        const page = flush();
        if (page !== undefined) yield page;
        pending = [];
        pendingBytes = BOLT_PAGE_HEADER_SIZE;
      }
      pending.push(child);
      pendingBytes += elementBytes;
    }
    const last = flush();
    if (last !== undefined) yield last;
    return parents;
  }
}

function newPage(pageSize: number, pgid: number, pageCount: number, flags: number, count: number): Buffer {
  const page = Buffer.alloc(pageSize * pageCount);
  page.writeBigUInt64LE(BigInt(pgid), 0);
  page.writeUInt16LE(flags, 8);
  page.writeUInt16LE(count, 10);
  page.writeUInt32LE(pageCount - 1, 12);
  return page;
}

function buildLeafPage(pageSize: number, pgid: number, pageCount: number, elements: readonly LeafElement[]): Buffer {
  const page = newPage(pageSize, pgid, pageCount, BOLT_LEAF_PAGE, elements.length);
  let dataOffset = BOLT_PAGE_HEADER_SIZE + elements.length * BOLT_ELEMENT_SIZE;
  for (const [i, element] of elements.entries()) {
    const elementOffset = BOLT_PAGE_HEADER_SIZE + i * BOLT_ELEMENT_SIZE;
    page.writeUInt32LE(element.flags, elementOffset);
    page.writeUInt32LE(dataOffset - elementOffset, elementOffset + 4);
    page.writeUInt32LE(element.key.length, elementOffset + 8);
    page.writeUInt32LE(element.value.length, elementOffset + 12);
    page.set(element.key, dataOffset);
    dataOffset += element.key.length;
    page.set(element.value, dataOffset);
    dataOffset += element.value.length;
  }
  return page;
}

function buildBranchPage(pageSize: number, pgid: number, pageCount: number, children: readonly ChildRef[]): Buffer {
  const page = newPage(pageSize, pgid, pageCount, BOLT_BRANCH_PAGE, children.length);
  let dataOffset = BOLT_PAGE_HEADER_SIZE + children.length * BOLT_ELEMENT_SIZE;
  for (const [i, child] of children.entries()) {
    const elementOffset = BOLT_PAGE_HEADER_SIZE + i * BOLT_ELEMENT_SIZE;
    page.writeUInt32LE(dataOffset - elementOffset, elementOffset);
    page.writeUInt32LE(child.firstKey.length, elementOffset + 4);
    page.writeBigUInt64LE(BigInt(child.pgid), elementOffset + 8);
    page.set(child.firstKey, dataOffset);
    dataOffset += child.firstKey.length;
  }
  return page;
}

interface MetaFields {
  readonly txid: number;
  readonly rootPgid: number;
  readonly freelistPgid: number;
  /** Number of pages in the file; every page id is below it. */
  readonly highWaterMark: number;
}

function buildMetaPage(pageSize: number, pgid: number, fields: MetaFields): Buffer {
  const page = newPage(pageSize, pgid, 1, BOLT_META_PAGE, 0);
  const meta = page.subarray(BOLT_PAGE_HEADER_SIZE);
  meta.writeUInt32LE(BOLT_MAGIC, 0);
  meta.writeUInt32LE(BOLT_VERSION, 4);
  meta.writeUInt32LE(pageSize, 8);
  meta.writeUInt32LE(0, 12); // meta flags: none defined
  meta.writeBigUInt64LE(BigInt(fields.rootPgid), 16); // root bucket header: root pgid...
  meta.writeBigUInt64LE(0n, 24); // ...and sequence
  meta.writeBigUInt64LE(BigInt(fields.freelistPgid), 32);
  meta.writeBigUInt64LE(BigInt(fields.highWaterMark), 40);
  meta.writeBigUInt64LE(BigInt(fields.txid), 48);
  meta.writeBigUInt64LE(fnv1a64(meta.subarray(0, META_CHECKSUM_OFFSET)), META_CHECKSUM_OFFSET);
  return page;
}

function buildEmptyFreelistPage(pageSize: number, pgid: number): Buffer {
  return newPage(pageSize, pgid, 1, BOLT_FREELIST_PAGE, 0);
}

const FNV64_OFFSET_BASIS = 0xcbf29ce484222325n;
const FNV64_PRIME = 0x100000001b3n;
const U64_MASK = 0xffffffffffffffffn;

/** The meta page checksum (Go's hash/fnv New64a). */
export function fnv1a64(bytes: Uint8Array): bigint {
  let hash = FNV64_OFFSET_BASIS;
  for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * FNV64_PRIME) & U64_MASK;
  return hash;
}

function describeKey(key: Uint8Array): string {
  return `0x${Buffer.from(key.buffer, key.byteOffset, Math.min(key.byteLength, 40)).toString('hex')}${key.byteLength > 40 ? '…' : ''}`;
}
