import { expect } from 'chai';
import { PermissionType, type Permission } from '../../src/api/auth-types.js';
import { mergePermissions } from '../../src/auth/permission-intervals.js';

const b = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const FROM_KEY = Uint8Array.of(0);
const perm = (permType: PermissionType, key: string, rangeEnd: string | Uint8Array = ''): Permission => ({
  permType,
  key: b(key),
  rangeEnd: typeof rangeEnd === 'string' ? b(rangeEnd) : rangeEnd,
});

describe("a user's merged permission intervals (etcd's range permission cache)", () => {
  it('grants a single key only that key, and not a range starting at it', () => {
    const { read, write } = mergePermissions([perm(PermissionType.Read, 'foo')]);
    expect(read.covers(b('foo'), undefined)).to.equal(true);
    expect(read.covers(b('foo'), new Uint8Array(0))).to.equal(true);
    expect(read.covers(b('fo'), undefined)).to.equal(false);
    expect(read.covers(b('foo0'), undefined)).to.equal(false);
    expect(read.covers(b('foo'), b('fop'))).to.equal(false);
    // [foo, foo\0) is exactly the one key.
    expect(read.covers(b('foo'), b('foo\0'))).to.equal(true);
    expect(write.covers(b('foo'), undefined)).to.equal(false);
  });

  it('grants a range [key, end) and every key and sub-range inside it, nothing past its end', () => {
    const { read } = mergePermissions([perm(PermissionType.Read, 'a', 'm')]);
    expect(read.covers(b('a'), undefined)).to.equal(true);
    expect(read.covers(b('lzzz'), undefined)).to.equal(true);
    expect(read.covers(b('m'), undefined)).to.equal(false);
    expect(read.covers(b('b'), b('m'))).to.equal(true);
    expect(read.covers(b('b'), b('n'))).to.equal(false);
    expect(read.covers(b('a'), FROM_KEY)).to.equal(false);
  });

  it('grants a prefix (etcdctl --prefix: [p, p+1)) to every key under it', () => {
    const { write } = mergePermissions([perm(PermissionType.Write, 'dir/', 'dir0')]);
    expect(write.covers(b('dir/x'), undefined)).to.equal(true);
    expect(write.covers(b('dir/'), b('dir0'))).to.equal(true);
    expect(write.covers(b('dir'), undefined)).to.equal(false);
    expect(write.covers(b('dir0'), undefined)).to.equal(false);
  });

  it('grants from-key ("\\0") every key at or after the key, and a from-key request needs one', () => {
    const { read } = mergePermissions([perm(PermissionType.Read, 'k', FROM_KEY)]);
    expect(read.covers(b('k'), FROM_KEY)).to.equal(true);
    expect(read.covers(b('zzzz'), FROM_KEY)).to.equal(true);
    expect(read.covers(b('z'), b('\xff\xff'))).to.equal(true);
    expect(read.covers(b('j'), FROM_KEY)).to.equal(false);
    const bounded = mergePermissions([perm(PermissionType.Read, 'k', 'z')]).read;
    expect(bounded.covers(b('k'), FROM_KEY)).to.equal(false);
  });

  it('merges overlapping and touching intervals of several roles, so their union covers a request no single one does', () => {
    const { read, write } = mergePermissions([
      perm(PermissionType.Read, 'a', 'c'),
      perm(PermissionType.ReadWrite, 'c', 'e'),
      perm(PermissionType.Read, 'd', 'g'),
      perm(PermissionType.Read, 'x'),
    ]);
    expect(read.size).to.equal(2);
    expect(read.covers(b('a'), b('g'))).to.equal(true);
    expect(read.covers(b('b'), b('f'))).to.equal(true);
    expect(read.covers(b('a'), b('h'))).to.equal(false);
    // A gap between two grants is not covered.
    expect(read.covers(b('f'), b('y'))).to.equal(false);
    expect(read.covers(b('x'), undefined)).to.equal(true);
    // READWRITE counts for both; READ alone not for writes.
    expect(write.covers(b('c'), b('e'))).to.equal(true);
    expect(write.covers(b('b'), b('e'))).to.equal(false);
    // Adjacent single keys merge too: [x, x\0) and [x\0, x\0\0).
    const keys = mergePermissions([perm(PermissionType.Read, 'x'), perm(PermissionType.Read, 'x\0')]).read;
    expect(keys.size).to.equal(1);
    expect(keys.covers(b('x'), b('x\0\0'))).to.equal(true);
  });

  it('grants nothing to a user without permissions', () => {
    const { read, write } = mergePermissions([]);
    expect(read.covers(b(''), FROM_KEY)).to.equal(false);
    expect(write.covers(b('a'), undefined)).to.equal(false);
  });
});
