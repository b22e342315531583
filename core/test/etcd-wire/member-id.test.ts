import { expect } from 'chai';
import { memberIdFromWire, memberIdToWire } from '../../src/etcd-wire/member-id.js';

describe('member IDs between the wire (uint64 decimal) and the core (16 hex digits)', () => {
  it('keeps the leading zero digit of IDs below 2^60, so they name their member', () => {
    expect(memberIdFromWire('548589517709291421')).to.equal('079cfb428290af9d');
    expect(memberIdToWire('079cfb428290af9d')).to.equal('548589517709291421');
    expect(memberIdFromWire('10276657743932975437')).to.equal('8e9e05c52164694d');
  });

  it('round-trips any ID, and 0 means no member', () => {
    for (const hex of ['0000000000000001', '00ffffffffffffff', 'ffffffffffffffff', '8e9e05c52164694d']) {
      expect(memberIdFromWire(memberIdToWire(hex))).to.equal(hex);
    }
    expect(memberIdFromWire('0')).to.equal('0');
    expect(memberIdFromWire('')).to.equal('0');
  });
});
