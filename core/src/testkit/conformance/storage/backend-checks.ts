import assert from 'node:assert/strict';
import type { Backend, BackendOp, BackendRange, BackendReader } from '../../../ports/backend.js';
import { SeededRandom } from '../../memory/seeded-random.js';
import { bytesEqual } from './assertions.js';
import { pseudoRandomBytes } from './sample-entries.js';
import type { StorageCheck, StoreIncarnations } from './store-incarnations.js';

export interface BackendCheckOptions {
  /** Keys of the bulk check (default 10000). */
  readonly keyCount?: number;
  readonly seed?: number;
}

type Stores = StoreIncarnations<Backend>;

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex') || '(empty)';
const bytes = (...values: (number | string)[]): Uint8Array =>
  Buffer.concat(values.map((v) => (typeof v === 'number' ? Buffer.from([v]) : Buffer.from(v, 'utf8'))));

/** What a Backend should hold: keys in unsigned byte order. */
export class BackendModel {
  private readonly map = new Map<string, Uint8Array>();

  apply(ops: readonly BackendOp[]): void {
    for (const op of ops) {
      if (op.type === 'put') this.map.set(hex(op.key), Uint8Array.from(op.value));
      else this.map.delete(hex(op.key));
    }
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.map.get(hex(key));
  }

  /** The pairs `range` selects, in order. */
  range(range: BackendRange): [Uint8Array, Uint8Array][] {
    const keys = [...this.map.keys()].map((k) => Buffer.from(k === '(empty)' ? '' : k, 'hex')).sort(Buffer.compare);
    let selected = keys.filter(
      (k) => (range.gte === undefined || Buffer.compare(k, range.gte) >= 0) && (range.lt === undefined || Buffer.compare(k, range.lt) < 0),
    );
    if (range.reverse === true) selected = selected.reverse();
    if (range.limit !== undefined) selected = selected.slice(0, range.limit);
    return selected.map((k) => [new Uint8Array(k), this.get(k)!]);
  }

  clone(): BackendModel {
    const copy = new BackendModel();
    for (const [k, v] of this.map) copy.map.set(k, v);
    return copy;
  }

  get size(): number {
    return this.map.size;
  }
}

const describeRange = (r: BackendRange): string =>
  `range(${[r.gte === undefined ? '' : `gte ${hex(r.gte)}`, r.lt === undefined ? '' : `lt ${hex(r.lt)}`, r.reverse === true ? 'reverse' : '', r.limit === undefined ? '' : `limit ${r.limit}`].filter((s) => s !== '').join(', ')})`;

async function collect(reader: BackendReader, range: BackendRange): Promise<[Uint8Array, Uint8Array][]> {
  const out: [Uint8Array, Uint8Array][] = [];
  for await (const pair of reader.range(range)) out.push(pair);
  return out;
}

async function assertRange(reader: BackendReader, model: BackendModel, range: BackendRange, when: string): Promise<void> {
  const got = await collect(reader, range);
  const expected = model.range(range);
  const show = (pairs: [Uint8Array, Uint8Array][]): string =>
    pairs
      .slice(0, 12)
      .map(([k]) => hex(k))
      .join(' ') + (pairs.length > 12 ? ' ...' : '');
  const sameKeys = got.length === expected.length && got.every(([k], i) => bytesEqual(k, expected[i]![0]));
  assert.ok(sameKeys, `${describeRange(range)} ${when}: keys [${show(got)}], expected [${show(expected)}]`);
  got.forEach(([k, v], i) => assert.ok(bytesEqual(v, expected[i]![1]), `${describeRange(range)} ${when}: value of ${hex(k)} differs`));
}

/** Asserts gets and a full range in both directions match the model. */
async function assertHolds(reader: BackendReader, model: BackendModel, probes: readonly Uint8Array[], when: string): Promise<void> {
  for (const key of probes) {
    const got = await reader.get(key);
    const expected = model.get(key);
    if (expected === undefined) assert.equal(got, undefined, `get(${hex(key)}) ${when}`);
    else
      assert.ok(
        got !== undefined && bytesEqual(got, expected),
        `get(${hex(key)}) ${when}: ${got === undefined ? 'undefined' : `${got.byteLength} bytes that differ`}`,
      );
  }
  await assertRange(reader, model, {}, when);
  await assertRange(reader, model, { reverse: true }, when);
}

async function write(stores: Stores, model: BackendModel, ops: BackendOp[]): Promise<void> {
  await stores.store.write(ops);
  model.apply(ops);
}

/** Keys that sort differently as signed bytes, as strings or by length; no empty key (LMDB has none). */
export const EDGE_KEYS: readonly Uint8Array[] = [
  bytes(0x00),
  bytes(0x00, 0x00),
  bytes(0x00, 0xff),
  bytes(0x01),
  bytes(0x7f),
  bytes(0x7f, 0xff),
  bytes(0x80),
  bytes(0x80, 0x00),
  bytes(0xc3, 0xa9),
  bytes(0xfe, 0xff),
  bytes(0xff),
  bytes(0xff, 0x00),
  bytes(0xff, 0xff),
  bytes(0xff, 0xff, 0xff),
  bytes('a'),
  bytes('a', 0x00),
  bytes('ab'),
  bytes('b'),
  bytes('key/0001'),
  bytes('key/0002'),
  bytes('key/0010'),
  bytes('k'.repeat(200)),
];

/** Bounds: every key, and points between and beyond them. */
const EDGE_BOUNDS: readonly (Uint8Array | undefined)[] = [
  undefined,
  bytes(0x00),
  bytes(0x00, 0x00, 0x00),
  bytes(0x01),
  bytes(0x7f),
  bytes(0x80),
  bytes(0xc3),
  bytes(0xff),
  bytes(0xff, 0xff),
  bytes(0xff, 0xff, 0xff, 0xff),
  bytes('a'),
  bytes('aa'),
  bytes('key/'),
  bytes('key/0002'),
  bytes('key/1'),
];

/** The Backend checks, in the order the suite runs them. */
export function backendChecks(options: BackendCheckOptions = {}): StorageCheck<Backend>[] {
  const keyCount = options.keyCount ?? 10_000;
  const seed = options.seed ?? 1;
  return [
    {
      title: 'get of a missing key is undefined; a batch of puts and dels applies in order',
      async run(stores) {
        const model = new BackendModel();
        const [a, b, c, d] = [bytes('a'), bytes('b'), bytes('c'), bytes('d')];
        assert.equal(await stores.store.get(a), undefined, 'get() of a fresh backend');
        assert.deepEqual(await collect(stores.store, {}), [], 'range() of a fresh backend');
        await write(stores, model, [
          { type: 'put', key: a, value: bytes('1') },
          { type: 'put', key: a, value: bytes('2') },
          { type: 'put', key: b, value: bytes('x') },
          { type: 'del', key: b },
          { type: 'del', key: c },
          { type: 'put', key: c, value: bytes('3') },
          { type: 'put', key: d, value: new Uint8Array(0) },
        ]);
        await assertHolds(stores.store, model, [a, b, c, d, bytes('e')], 'after one batch');
        await write(stores, model, [
          { type: 'del', key: a },
          { type: 'put', key: b, value: bytes('4') },
          { type: 'del', key: bytes('never') },
        ]);
        await assertHolds(stores.store, model, [a, b, c, d], 'after a second batch');
        await write(stores, model, []);
        await assertHolds(stores.store, model, [a, b, c, d], 'after an empty batch');
      },
    },
    {
      title: 'a write batch is atomic: reads made while it is under way see all of it or none',
      async run(stores) {
        const ops: BackendOp[] = Array.from({ length: 2000 }, (_, i) => ({
          type: 'put',
          key: bytes(`atomic/${i.toString().padStart(5, '0')}`),
          value: pseudoRandomBytes(64, i),
        }));
        const writing = stores.store.write(ops);
        let done = false;
        void writing.then(
          () => {
            done = true;
          },
          () => {
            done = true;
          },
        );
        const seen = new Set<number>();
        while (!done) {
          let n = 0;
          for await (const _pair of stores.store.range({ gte: bytes('atomic/'), lt: bytes('atomic0') })) n++;
          seen.add(n);
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        await writing;
        const partial = [...seen].filter((n) => n !== 0 && n !== ops.length);
        assert.deepEqual(partial, [], `reads during a ${ops.length}-put batch saw ${partial.join(', ')} of its keys`);
        const model = new BackendModel();
        model.apply(ops);
        await assertRange(stores.store, model, {}, 'after the batch');
      },
    },
    {
      title: 'range() in unsigned byte order, forwards and in reverse, with every gte, lt and limit',
      async run(stores) {
        const model = new BackendModel();
        await write(
          stores,
          model,
          EDGE_KEYS.map((key, i) => ({ type: 'put', key, value: pseudoRandomBytes(i * 3, i) })),
        );
        for (const gte of EDGE_BOUNDS) {
          for (const lt of EDGE_BOUNDS) {
            for (const reverse of [false, true]) {
              for (const limit of [undefined, 0, 1, 3]) {
                await assertRange(
                  stores.store,
                  model,
                  { ...(gte === undefined ? {} : { gte }), ...(lt === undefined ? {} : { lt }), reverse, ...(limit === undefined ? {} : { limit }) },
                  'over the edge keys',
                );
              }
            }
          }
        }
        // Leaving an iteration early must release it: the backend goes on working.
        for await (const _pair of stores.store.range({})) break;
        for await (const _pair of stores.store.range({ reverse: true })) break;
        await write(stores, model, [{ type: 'del', key: EDGE_KEYS[0]! }]);
        await assertHolds(stores.store, model, EDGE_KEYS, 'after iterations left early and a delete');
      },
    },
    {
      title: 'a read view stays fixed while writes go on, also in the middle of an iteration, and releasing it changes nothing',
      async run(stores) {
        const model = new BackendModel();
        const keys = Array.from({ length: 200 }, (_, i) => bytes(`view/${i.toString().padStart(3, '0')}`));
        await write(
          stores,
          model,
          keys.map((key, i) => ({ type: 'put', key, value: bytes(`v1-${i}`) })),
        );
        const frozen = model.clone();
        const view = stores.store.readView();
        const probes = [keys[0]!, keys[1]!, keys[150]!, bytes('view/new')];
        await write(stores, model, [
          { type: 'put', key: keys[0]!, value: bytes('v2') },
          { type: 'del', key: keys[1]! },
          { type: 'put', key: bytes('view/new'), value: bytes('n') },
        ]);
        await assertHolds(view, frozen, probes, 'in a view taken before the writes');
        await assertHolds(stores.store, model, probes, 'in the backend after the writes');
        // Writes in the middle of the view's iteration.
        const got: Uint8Array[] = [];
        let n = 0;
        for await (const [key] of view.range({})) {
          got.push(key);
          if (++n % 50 === 0)
            await write(stores, model, [
              { type: 'del', key: keys[(n + 10) % keys.length]! },
              { type: 'put', key: bytes(`view/${n}a`), value: bytes('x') },
            ]);
        }
        assert.deepEqual(
          got.map(hex),
          frozen.range({}).map(([k]) => hex(k)),
          'keys of a view iterated while writes went on',
        );
        const second = stores.store.readView();
        const frozenSecond = model.clone();
        await write(
          stores,
          model,
          keys.slice(100).map((key) => ({ type: 'del', key })),
        );
        view.release();
        await assertHolds(second, frozenSecond, probes, 'in a second view, after the first was released');
        second.release();
        await write(stores, model, [{ type: 'put', key: keys[199]!, value: bytes('v3') }]);
        const third = stores.store.readView();
        await assertHolds(third, model, [...probes, keys[199]!], 'in a view taken after the others were released');
        third.release();
        await assertHolds(stores.store, model, [...probes, keys[199]!], 'in the backend at the end');
      },
    },
    {
      title: `keeps ${keyCount} keys and large values; size() reports total >= inUse > 0`,
      async run(stores) {
        const fresh = await stores.store.size();
        assert.ok(
          Number.isFinite(fresh.total) && Number.isFinite(fresh.inUse) && fresh.inUse >= 0 && fresh.total >= fresh.inUse,
          `size() of a fresh backend: ${JSON.stringify(fresh)}`,
        );
        const model = new BackendModel();
        const random = new SeededRandom(seed);
        for (let from = 0; from < keyCount; from += 1000) {
          await write(
            stores,
            model,
            Array.from({ length: Math.min(1000, keyCount - from) }, (_, i) => {
              const n = from + i;
              return {
                type: 'put',
                key: bytes(`bulk/${((n * 7919) % keyCount).toString().padStart(6, '0')}`),
                value: pseudoRandomBytes(random.int(0, 200), n),
              };
            }),
          );
        }
        await write(stores, model, [
          { type: 'put', key: bytes('large/1'), value: pseudoRandomBytes(4 << 20, 1) },
          { type: 'put', key: bytes('large/2'), value: pseudoRandomBytes(1 << 20, 2) },
        ]);
        const size = await stores.store.size();
        assert.ok(size.inUse > 0 && size.total >= size.inUse, `size() after ${keyCount} keys and 5 MiB of values: ${JSON.stringify(size)}`);
        for (let n = 0; n < 20; n++) {
          const lo = random.int(0, keyCount);
          await assertRange(
            stores.store,
            model,
            { gte: bytes(`bulk/${lo.toString().padStart(6, '0')}`), limit: random.int(1, 500), reverse: random.chance(0.5) },
            `over ${keyCount} keys`,
          );
        }
        await assertHolds(stores.store, model, [bytes('large/1'), bytes('large/2'), bytes('bulk/000000')], `after ${keyCount} keys`);
      },
    },
    {
      title: 'defragment() keeps every key and value',
      async run(stores) {
        const model = new BackendModel();
        const keys = Array.from({ length: 3000 }, (_, i) => bytes(`defrag/${i.toString().padStart(5, '0')}`));
        await write(
          stores,
          model,
          keys.map((key, i) => ({ type: 'put', key, value: pseudoRandomBytes(500, i) })),
        );
        await write(
          stores,
          model,
          keys.filter((_, i) => i % 3 !== 0).map((key) => ({ type: 'del', key })),
        );
        await stores.store.flush();
        await stores.store.defragment();
        await assertHolds(stores.store, model, keys.slice(0, 10), 'after defragment()');
        const size = await stores.store.size();
        assert.ok(size.inUse > 0 && size.total >= size.inUse, `size() after defragment(): ${JSON.stringify(size)}`);
        await write(stores, model, [{ type: 'put', key: bytes('defrag/after'), value: bytes('x') }]);
        await stores.store.flush();
        await stores.reopen();
        await assertHolds(stores.store, model, [...keys.slice(0, 10), bytes('defrag/after')], 'after defragment(), a write, flush(), close and reopen');
      },
    },
    {
      title: 'flush() makes every write before it survive close and reopen; close is idempotent',
      async run(stores) {
        const model = new BackendModel();
        for (let batch = 0; batch < 20; batch++) {
          await write(
            stores,
            model,
            Array.from({ length: 50 }, (_, i) => ({ type: 'put', key: bytes(`flush/${batch}/${i}`), value: pseudoRandomBytes(100, batch * 50 + i) })),
          );
          if (batch % 5 === 4) await write(stores, model, [{ type: 'del', key: bytes(`flush/${batch - 2}/7`) }]);
        }
        await stores.store.flush();
        await Promise.all([stores.store.close(), stores.store.close()]);
        await stores.store.close();
        await stores.reopen();
        await assertHolds(stores.store, model, [bytes('flush/0/0'), bytes('flush/2/7'), bytes('flush/19/49')], 'after flush(), close and reopen');
        await write(stores, model, [{ type: 'put', key: bytes('flush/again'), value: bytes('y') }]);
        await stores.store.flush();
        await stores.reopen();
        await assertHolds(stores.store, model, [bytes('flush/again')], 'after a second flush(), close and reopen');
      },
    },
  ];
}
