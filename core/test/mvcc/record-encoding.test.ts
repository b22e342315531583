import { expect } from 'chai';
import { decodeKeyRecord, encodeKeyRecord } from '../../src/mvcc/key-record.js';
import { decodeRevisionKey, decodeU64, encodeRevisionKey, encodeU64 } from '../../src/mvcc/revision-key.js';

/** The layout as written before (BigInt per field), to check the bytes did not change. */
function u64ViaBigInt(n: number): number[] {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return [...b];
}

const EDGES = [0, 1, 255, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 48 + 12345, Number.MAX_SAFE_INTEGER];

describe('MVCC record and key encoding', () => {
  it('writes u64 fields with the same bytes as the BigInt encoding, and reads them back', () => {
    for (const n of EDGES) {
      expect([...encodeU64(n)], String(n)).to.deep.equal(u64ViaBigInt(n));
      expect(decodeU64(encodeU64(n), 'test')).to.equal(n);
      const key = encodeRevisionKey({ main: n, sub: 7 });
      expect([...key.subarray(1, 9)], String(n)).to.deep.equal(u64ViaBigInt(n));
      expect(decodeRevisionKey(key)).to.deep.equal({ main: n, sub: 7 });
    }
  });

  it('refuses a negative revision as before', () => {
    expect(() => encodeU64(-1)).to.throw(RangeError);
  });

  it('round-trips records at the edges of their fields, leases zero, negative and large', () => {
    for (const lease of [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n)]) {
      for (const n of EDGES) {
        const record = { tombstone: false, key: Buffer.from('k'), createRevision: n, version: n, lease, value: Buffer.from('value') };
        const bytes = encodeKeyRecord(record);
        expect([...bytes.subarray(1, 9)]).to.deep.equal(u64ViaBigInt(n));
        const back = decodeKeyRecord(bytes);
        expect([back.createRevision, back.version, back.lease, Buffer.from(back.key).toString(), Buffer.from(back.value).toString()]).to.deep.equal([
          n,
          n,
          lease,
          'k',
          'value',
        ]);
      }
    }
  });
});
