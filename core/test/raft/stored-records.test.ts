import { expect } from 'chai';
import {
  CorruptStorageError,
  decodeEntryRecord,
  decodeSnapshotMetaRecord,
  decodeStableStateRecord,
  encodeEntryRecord,
  encodeSnapshotMetaRecord,
  encodeStableStateRecord,
} from '../../src/protocol/stored-records.js';
import { EntryType } from '../../src/protocol/raft-types.js';

const entry = { index: 2 ** 40 + 7, term: 9, type: EntryType.ConfChange, data: new Uint8Array([1, 2, 3, 250]) };
const state = {
  hardState: { term: 4, vote: '00000000000000aa', commit: 17 },
  confState: { voters: ['a', 'b'], learners: ['c'] },
  clusterId: 'ff',
  memberId: 'aa',
};
const meta = { index: 100, term: 3, confState: { voters: ['a'], learners: [] } };

describe('stored Raft records', () => {
  it('round-trip entries, stable state and snapshot metadata', () => {
    expect(decodeEntryRecord(encodeEntryRecord(entry), 'log.mdb', entry.index)).to.deep.equal(entry);
    expect(decodeStableStateRecord(encodeStableStateRecord(state), 'stable')).to.deep.equal(state);
    expect(decodeSnapshotMetaRecord(encodeSnapshotMetaRecord(meta), 'snap')).to.deep.equal(meta);
  });

  it('refuse every single flipped bit, naming the file', () => {
    const record = encodeEntryRecord(entry);
    for (let bit = 0; bit < record.byteLength * 8; bit++) {
      const bad = record.slice();
      bad[bit >> 3]! ^= 1 << (bit & 7);
      expect(() => decodeEntryRecord(bad, '/data/log.mdb', entry.index), `bit ${bit}`).to.throw(CorruptStorageError, '/data/log.mdb: corrupt storage');
    }
  });

  it('refuse torn records and records filed under another index', () => {
    const record = encodeEntryRecord(entry);
    expect(() => decodeEntryRecord(record.subarray(0, 10), 'f')).to.throw(CorruptStorageError, 'torn');
    expect(() => decodeEntryRecord(record.subarray(0, record.byteLength - 1), 'f')).to.throw(CorruptStorageError, 'checksum');
    expect(() => decodeEntryRecord(record, 'f', 5)).to.throw(CorruptStorageError, `filed at 5 holds index ${entry.index}`);
    const stable = encodeStableStateRecord(state);
    expect(() => decodeStableStateRecord(stable.subarray(0, stable.byteLength - 3), 'f')).to.throw(CorruptStorageError);
  });
});
