/**
 * Reads a bbolt (go.etcd.io/bbolt) database file — an etcd backend or `etcdctl snapshot save`
 * output — page by page with positioned reads, so the file may be far larger than memory.
 *
 * Format facts relied on (little-endian integers):
 *   page header (16 bytes): id u64, flags u16, count u16, overflow u32 (pages that follow)
 *   meta (after the header of pages 0 and 1): magic u32, version u32, page size u32, flags u32,
 *     root bucket {root pgid u64, sequence u64}, freelist pgid u64, high-water mark pgid u64,
 *     txid u64, checksum u64 (FNV-1a 64 of the 56 bytes before it)
 *   leaf element (16 bytes): flags u32, pos u32, key size u32, value size u32
 *   branch element (16 bytes): pos u32, key size u32, child pgid u64
 *   `pos` counts from the element itself to its key; a leaf's value follows its key.
 *   A leaf element with the bucket flag holds a nested bucket: its header {root, sequence}, and
 *   when root is 0 the bucket is inline: one leaf page stored right after that header.
 *
 * Everything is checked as it is read (page ids, flags, bounds, key order, one depth for all
 * leaves, no page reached twice), and any damage is a CorruptBoltFileError naming the file.
 */
import { ReadAheadFile } from './read-ahead-file.js';
import {
  BOLT_BRANCH_PAGE,
  BOLT_BUCKET_HEADER_SIZE,
  BOLT_BUCKET_LEAF_FLAG,
  BOLT_ELEMENT_SIZE,
  BOLT_LEAF_PAGE,
  BOLT_MAGIC,
  BOLT_META_PAGE,
  BOLT_PAGE_HEADER_SIZE,
  BOLT_VERSION,
  fnv1a64,
} from './bolt-file-writer.js';

/** The file is not a usable bbolt database: damaged, truncated, or something else altogether. */
export class CorruptBoltFileError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: not a valid bbolt database: ${detail}`);
    this.name = 'CorruptBoltFileError';
  }
}

/** One key of a bucket: a value, or (isBucket) a nested bucket. */
export interface BoltEntry {
  readonly key: Buffer;
  /** The value; for a nested bucket, its raw header (and inline page). */
  readonly value: Buffer;
  readonly isBucket: boolean;
}

export interface BoltFileReaderOptions {
  /** Bytes of the file that belong to the database (a snapshot's sha256 trailer is not part of it). */
  readonly length?: number;
}

const META_SIZE = 64;
const META_CHECKSUM_OFFSET = 56;
const MIN_PAGE_SIZE = 512;
const MAX_PAGE_SIZE = 64 * 1024;
/** Far deeper than any real tree (fan-out >= 2 per level); a corrupt cycle stops here at the latest. */
const MAX_TREE_DEPTH = 64;
const LEAF_FLAGS_KNOWN = BOLT_BUCKET_LEAF_FLAG;
const BAD_MAGIC = 'bad magic number';

interface MetaPage {
  readonly pageSize: number;
  readonly rootPgid: number;
  readonly highWaterMark: number;
  readonly txid: bigint;
}

/** A page's header fields over its whole byte range (the page and its overflow pages). */
interface Page {
  readonly flags: number;
  readonly count: number;
  readonly bytes: Buffer;
  /** How the page is named in errors. */
  readonly where: string;
}

/** Where a bucket's tree starts: a page of the file, or a leaf page inline in its parent's value. */
type BucketRoot = { readonly pgid: number } | { readonly inline: Page };

/** State of one walk over a bucket: what must hold across all of its pages. */
interface WalkState {
  readonly visited: Uint8Array;
  leafDepth: number | undefined;
  lastKey: Buffer | undefined;
}

export class BoltFileReader {
  /** The database's root bucket: its keys are the top-level buckets. */
  readonly root: BoltBucketReader;

  private constructor(
    private readonly file: ReadAheadFile,
    readonly pageSize: number,
    /** Pages in the database; every page id is below it. */
    readonly highWaterMark: number,
    /** The transaction the chosen meta page describes. */
    readonly txid: bigint,
    rootPgid: number,
  ) {
    this.root = new BoltBucketReader(this, [], { pgid: rootPgid });
  }

  get path(): string {
    return this.file.path;
  }

  /**
   * Opens `path` and picks its meta page: of the two, the valid one with the highest txid.
   * Refuses a file that is not a bbolt database or is shorter than its meta page says.
   */
  static async open(path: string, options: BoltFileReaderOptions = {}): Promise<BoltFileReader> {
    const file = await ReadAheadFile.open(path, options.length === undefined ? {} : { limit: options.length });
    try {
      const fail = (detail: string): never => {
        throw new CorruptBoltFileError(path, detail);
      };
      if (file.limit < BOLT_PAGE_HEADER_SIZE + META_SIZE) fail(`the file is too small (${file.limit} bytes)`);
      const first = await readMeta(file, 0, 0);
      // The second meta page sits one page in; without a valid first one, try every legal page size.
      const sizes = first.meta !== undefined ? [first.meta.pageSize] : pageSizeCandidates();
      let second: { meta?: MetaPage; problem: string } = { problem: 'missing' };
      for (const size of sizes) {
        if (size + BOLT_PAGE_HEADER_SIZE + META_SIZE > file.limit) continue;
        const candidate = await readMeta(file, 1, size);
        if (candidate.meta !== undefined && candidate.meta.pageSize === size) {
          second = candidate;
          break;
        }
        const problem = candidate.meta !== undefined ? `its page size ${candidate.meta.pageSize} does not match its position ${size}` : candidate.problem;
        // Report the position where something meta-like was found, if any.
        if (second.problem === 'missing' || (second.problem === BAD_MAGIC && problem !== BAD_MAGIC)) second = { problem };
      }
      const valid = [first.meta, second.meta].filter((m): m is MetaPage => m !== undefined);
      if (valid.length === 0) fail(`no valid meta page (page 0: ${first.problem}; page 1: ${second.problem})`);
      const meta = valid.reduce((a, b) => (b.txid > a.txid ? b : a));
      const needed = meta.highWaterMark * meta.pageSize;
      if (needed > file.limit) {
        fail(`truncated: its meta page describes ${meta.highWaterMark} pages of ${meta.pageSize} bytes (${needed} bytes) but the file holds ${file.limit}`);
      }
      if (meta.rootPgid < 2 || meta.rootPgid >= meta.highWaterMark) fail(`the root page ${meta.rootPgid} is outside the file (${meta.highWaterMark} pages)`);
      return new BoltFileReader(file, meta.pageSize, meta.highWaterMark, meta.txid, meta.rootPgid);
    } catch (err) {
      await file.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.file.close();
  }

  /** @internal Page `pgid` with its overflow pages, checked against its header. */
  async page(pgid: number): Promise<Page> {
    const where = `page ${pgid}`;
    if (!Number.isSafeInteger(pgid) || pgid < 2 || pgid >= this.highWaterMark) {
      throw this.corrupt(`a page refers to page ${pgid}, outside the tree pages 2..${this.highWaterMark - 1}`);
    }
    const first = await this.file.read(pgid * this.pageSize, this.pageSize);
    const id = first.readBigUInt64LE(0);
    if (id !== BigInt(pgid)) throw this.corrupt(`${where} carries the id ${id}`);
    const overflow = first.readUInt32LE(12);
    if (pgid + overflow >= this.highWaterMark) throw this.corrupt(`${where} runs ${overflow} pages past its start, beyond the end of the file`);
    const bytes = overflow === 0 ? first : await this.file.read(pgid * this.pageSize, (overflow + 1) * this.pageSize);
    return { flags: first.readUInt16LE(8), count: first.readUInt16LE(10), bytes, where };
  }

  /** @internal */
  corrupt(detail: string): CorruptBoltFileError {
    return new CorruptBoltFileError(this.file.path, detail);
  }
}

/** One bucket of the file: its entries in key order, lookups, and its nested buckets. */
export class BoltBucketReader {
  /** @internal */
  constructor(
    private readonly db: BoltFileReader,
    /** Names from the root down; empty for the root bucket. */
    readonly path: readonly Buffer[],
    private readonly rootRef: BucketRoot,
  ) {}

  /**
   * Every entry in strictly ascending key order, streamed: memory holds one page per level.
   * The whole tree is checked on the way.
   */
  async *entries(): AsyncIterable<BoltEntry> {
    const state: WalkState = { visited: new Uint8Array(Math.ceil(this.db.highWaterMark / 8)), leafDepth: undefined, lastKey: undefined };
    if ('inline' in this.rootRef) {
      yield* this.leafEntries(this.rootRef.inline, 1, state);
      return;
    }
    yield* this.walk(this.rootRef.pgid, 1, state);
  }

  /** The entry under `key`, found by descending the tree. */
  async get(key: Uint8Array): Promise<BoltEntry | undefined> {
    let page = 'inline' in this.rootRef ? this.rootRef.inline : await this.db.page(this.rootRef.pgid);
    for (let depth = 1; ; depth++) {
      if (depth > MAX_TREE_DEPTH) throw this.db.corrupt(`${this.describe()} is deeper than ${MAX_TREE_DEPTH} levels (a page cycle)`);
      if (page.flags === BOLT_LEAF_PAGE) {
        const elements = this.leafElements(page);
        const i = lowerBound(
          elements.map((e) => e.key),
          key,
        );
        const found = elements[i];
        return found !== undefined && Buffer.compare(found.key, key) === 0 ? found : undefined;
      }
      if (page.flags !== BOLT_BRANCH_PAGE)
        throw this.db.corrupt(`${page.where} in ${this.describe()} has flags 0x${page.flags.toString(16)}, not a branch or a leaf`);
      const children = this.branchElements(page);
      if (children.length === 0) throw this.db.corrupt(`branch ${page.where} in ${this.describe()} has no children`);
      // The child whose first key is the last one at or below `key`.
      const i = lowerBound(
        children.map((c) => c.key),
        key,
      );
      const exact = children[i] !== undefined && Buffer.compare(children[i]!.key, key) === 0;
      const child = children[exact ? i : Math.max(0, i - 1)]!;
      page = await this.db.page(child.pgid);
    }
  }

  /** The nested bucket `name`, or undefined if there is none (a plain value under `name` is damage). */
  async bucket(name: Uint8Array): Promise<BoltBucketReader | undefined> {
    const entry = await this.get(name);
    if (entry === undefined) return undefined;
    if (!entry.isBucket) throw this.db.corrupt(`${this.describe()} holds a value, not a bucket, under ${describeKey(name)}`);
    return this.nested(entry);
  }

  /** The bucket an entry with `isBucket` opens. */
  nested(entry: BoltEntry): BoltBucketReader {
    const path = [...this.path, entry.key];
    const where = describePath(path);
    if (!entry.isBucket) throw this.db.corrupt(`${where} is a value, not a bucket`);
    if (entry.value.length < BOLT_BUCKET_HEADER_SIZE) throw this.db.corrupt(`the header of ${where} is ${entry.value.length} bytes`);
    const root = entry.value.readBigUInt64LE(0);
    if (root !== 0n) {
      if (root >= BigInt(this.db.highWaterMark)) throw this.db.corrupt(`${where} has its root at page ${root}, outside the file`);
      return new BoltBucketReader(this.db, path, { pgid: Number(root) });
    }
    const bytes = entry.value.subarray(BOLT_BUCKET_HEADER_SIZE);
    if (bytes.length < BOLT_PAGE_HEADER_SIZE) throw this.db.corrupt(`the inline page of ${where} is ${bytes.length} bytes`);
    return new BoltBucketReader(this.db, path, {
      inline: { flags: bytes.readUInt16LE(8), count: bytes.readUInt16LE(10), bytes, where: `the inline page of ${where}` },
    });
  }

  private async *walk(pgid: number, depth: number, state: WalkState): AsyncGenerator<BoltEntry> {
    if (depth > MAX_TREE_DEPTH) throw this.db.corrupt(`${this.describe()} is deeper than ${MAX_TREE_DEPTH} levels (a page cycle)`);
    const page = await this.db.page(pgid);
    const lastPage = pgid + page.bytes.length / this.db.pageSize - 1;
    for (let id = pgid; id <= lastPage; id++) {
      const bit = 1 << (id & 7);
      if ((state.visited[id >> 3]! & bit) !== 0) throw this.db.corrupt(`page ${id} is reached twice in ${this.describe()}`);
      state.visited[id >> 3]! |= bit;
    }
    if (page.flags === BOLT_LEAF_PAGE) {
      yield* this.leafEntries(page, depth, state);
      return;
    }
    if (page.flags !== BOLT_BRANCH_PAGE)
      throw this.db.corrupt(`${page.where} in ${this.describe()} has flags 0x${page.flags.toString(16)}, not a branch or a leaf`);
    const children = this.branchElements(page);
    if (children.length === 0) throw this.db.corrupt(`branch ${page.where} in ${this.describe()} has no children`);
    for (const child of children) yield* this.walk(child.pgid, depth + 1, state);
  }

  private async *leafEntries(page: Page, depth: number, state: WalkState): AsyncGenerator<BoltEntry> {
    if (page.flags !== BOLT_LEAF_PAGE) throw this.db.corrupt(`${page.where} in ${this.describe()} has flags 0x${page.flags.toString(16)}, not a leaf`);
    if (state.leafDepth === undefined) state.leafDepth = depth;
    else if (state.leafDepth !== depth)
      throw this.db.corrupt(`${page.where} in ${this.describe()} is a leaf at depth ${depth}, others are at ${state.leafDepth}`);
    for (const entry of this.leafElements(page)) {
      if (state.lastKey !== undefined && Buffer.compare(state.lastKey, entry.key) >= 0) {
        throw this.db.corrupt(`keys out of order in ${this.describe()}: ${describeKey(state.lastKey)} then ${describeKey(entry.key)} (${page.where})`);
      }
      state.lastKey = entry.key;
      yield entry;
    }
  }

  private leafElements(page: Page): BoltEntry[] {
    this.checkElementArray(page);
    const out: BoltEntry[] = [];
    for (let i = 0; i < page.count; i++) {
      const at = BOLT_PAGE_HEADER_SIZE + i * BOLT_ELEMENT_SIZE;
      const flags = page.bytes.readUInt32LE(at);
      if ((flags & ~LEAF_FLAGS_KNOWN) !== 0) throw this.db.corrupt(`element ${i} of ${page.where} has unknown flags 0x${flags.toString(16)}`);
      const keyAt = at + page.bytes.readUInt32LE(at + 4);
      const keySize = page.bytes.readUInt32LE(at + 8);
      const valueSize = page.bytes.readUInt32LE(at + 12);
      if (keyAt + keySize + valueSize > page.bytes.length) throw this.db.corrupt(`element ${i} of ${page.where} points past the end of its page`);
      out.push({
        key: page.bytes.subarray(keyAt, keyAt + keySize),
        value: page.bytes.subarray(keyAt + keySize, keyAt + keySize + valueSize),
        isBucket: (flags & BOLT_BUCKET_LEAF_FLAG) !== 0,
      });
    }
    return out;
  }

  private branchElements(page: Page): { key: Buffer; pgid: number }[] {
    this.checkElementArray(page);
    const out: { key: Buffer; pgid: number }[] = [];
    for (let i = 0; i < page.count; i++) {
      const at = BOLT_PAGE_HEADER_SIZE + i * BOLT_ELEMENT_SIZE;
      const keyAt = at + page.bytes.readUInt32LE(at);
      const keySize = page.bytes.readUInt32LE(at + 4);
      if (keyAt + keySize > page.bytes.length) throw this.db.corrupt(`element ${i} of ${page.where} points past the end of its page`);
      const key = page.bytes.subarray(keyAt, keyAt + keySize);
      const previous = out[i - 1];
      if (previous !== undefined && Buffer.compare(previous.key, key) >= 0) throw this.db.corrupt(`branch keys out of order in ${page.where}`);
      out.push({ key, pgid: Number(page.bytes.readBigUInt64LE(at + 8)) });
    }
    return out;
  }

  private checkElementArray(page: Page): void {
    if (BOLT_PAGE_HEADER_SIZE + page.count * BOLT_ELEMENT_SIZE > page.bytes.length) {
      throw this.db.corrupt(`${page.where} claims ${page.count} elements, more than fit in ${page.bytes.length} bytes`);
    }
  }

  private describe(): string {
    return describePath(this.path);
  }
}

async function readMeta(file: ReadAheadFile, pgid: number, offset: number): Promise<{ meta?: MetaPage; problem: string }> {
  const page = await file.read(offset, BOLT_PAGE_HEADER_SIZE + META_SIZE);
  const meta = page.subarray(BOLT_PAGE_HEADER_SIZE);
  if (meta.readUInt32LE(0) !== BOLT_MAGIC) return { problem: BAD_MAGIC };
  if (meta.readUInt32LE(4) !== BOLT_VERSION) return { problem: `unsupported version ${meta.readUInt32LE(4)}` };
  if (meta.readBigUInt64LE(META_CHECKSUM_OFFSET) !== fnv1a64(meta.subarray(0, META_CHECKSUM_OFFSET))) return { problem: 'checksum mismatch' };
  if (page.readBigUInt64LE(0) !== BigInt(pgid) || page.readUInt16LE(8) !== BOLT_META_PAGE) return { problem: 'not marked as a meta page' };
  const pageSize = meta.readUInt32LE(8);
  if (!pageSizeCandidates().includes(pageSize)) return { problem: `impossible page size ${pageSize}` };
  const rootPgid = meta.readBigUInt64LE(16);
  const highWaterMark = meta.readBigUInt64LE(40);
  if (highWaterMark > BigInt(Number.MAX_SAFE_INTEGER) || rootPgid > highWaterMark)
    return { problem: `impossible page counts (root ${rootPgid}, ${highWaterMark} pages)` };
  return { meta: { pageSize, rootPgid: Number(rootPgid), highWaterMark: Number(highWaterMark), txid: meta.readBigUInt64LE(48) }, problem: '' };
}

function pageSizeCandidates(): number[] {
  const sizes: number[] = [];
  for (let size = MIN_PAGE_SIZE; size <= MAX_PAGE_SIZE; size *= 2) sizes.push(size);
  return sizes;
}

/** Index of the first key >= `key`. */
function lowerBound(keys: readonly Buffer[], key: Uint8Array): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (Buffer.compare(keys[mid]!, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function describePath(path: readonly Buffer[]): string {
  return path.length === 0 ? 'the root bucket' : `bucket ${path.map(describeKey).join('/')}`;
}

/** A key as text when it is printable, else as hex; long keys are cut. */
function describeKey(key: Uint8Array): string {
  const bytes = Buffer.from(key.buffer, key.byteOffset, Math.min(key.byteLength, 40));
  const more = key.byteLength > 40 ? '…' : '';
  return /^[\x20-\x7e]*$/.test(bytes.toString('latin1')) ? `"${bytes.toString('latin1')}${more}"` : `0x${bytes.toString('hex')}${more}`;
}
