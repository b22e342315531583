import { expect } from 'chai';
import { WireError } from '../../src/protocol/wire-error.js';
import { WireReader } from '../../src/protocol/wire-reader.js';
import { wireSize, WireWriter } from '../../src/protocol/wire-writer.js';

describe('the peer wire’s field reader and writer', () => {
  it('write what wireSize says, and read it back', () => {
    const text = 'členové 節点';
    const blob = Uint8Array.from([9, 8, 7]);
    const size = wireSize.u8 + wireSize.u16 + wireSize.u32 + wireSize.u64 + wireSize.string(text) + wireSize.bytes(blob) + 2;
    const writer = new WireWriter(Buffer.alloc(size));
    writer.u8(0xfe);
    writer.u16(0xbeef);
    writer.u32(0xdead_beef);
    writer.u64(Number.MAX_SAFE_INTEGER);
    writer.string(text);
    writer.bytes(blob);
    writer.raw(Uint8Array.from([1, 2]));
    expect(writer.position).to.equal(size);

    const reader = new WireReader(writer.buffer);
    expect([reader.u8(), reader.u16(), reader.u32(), reader.u64()]).to.deep.equal([0xfe, 0xbeef, 0xdead_beef, Number.MAX_SAFE_INTEGER]);
    expect(reader.string()).to.equal(text);
    expect([...reader.bytes()]).to.deep.equal([9, 8, 7]);
    expect([...reader.slice(1, 'one byte')]).to.deep.equal([1]);
    expect([...reader.rest()]).to.deep.equal([2]);
    expect(reader.remaining).to.equal(0);
    reader.end('fields');
  });

  it('starts where it is told, in a Buffer or any other Uint8Array view', () => {
    const backing = Uint8Array.from([0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 42, 0xff]);
    expect(new WireReader(backing.subarray(2, 10)).u64()).to.equal(42);
    expect(new WireReader(Buffer.from(backing), 2).u64()).to.equal(42);
    const writer = new WireWriter(Buffer.alloc(6), 2);
    writer.u32(7);
    expect([...writer.buffer]).to.deep.equal([0, 0, 0, 0, 0, 7]);
  });

  it('the reader names the field it could not read', () => {
    expect(() => new WireReader(Buffer.alloc(3)).u32('entry count')).to.throw(WireError, 'truncated entry count: need 4 bytes, have 3');
    expect(() => new WireReader(Buffer.from([0, 5, 65])).string('from')).to.throw(WireError, 'truncated from: need 5 bytes, have 1');
    expect(() => new WireReader(Buffer.from([0, 0, 0, 9])).bytes('context')).to.throw(WireError, /truncated context/);
    expect(() => new WireReader(Buffer.alloc(8, 0xff)).u64('index')).to.throw(WireError, 'index exceeds 2^53');
    expect(() => new WireReader(Buffer.alloc(2)).end('hello')).to.throw(WireError, '2 unexpected trailing bytes after hello');
  });

  it('the writer refuses what the format cannot hold', () => {
    expect(() => new WireWriter(Buffer.alloc(8)).u64(2 ** 53)).to.throw(RangeError);
    expect(() => new WireWriter(Buffer.alloc(8)).u64(-1)).to.throw(RangeError);
    const long = 'x'.repeat(70_000);
    expect(() => new WireWriter(Buffer.alloc(wireSize.string(long))).string(long)).to.throw(RangeError, /65535/);
    expect(() => new WireWriter(Buffer.alloc(3)).u32(1)).to.throw(RangeError);
  });
});
