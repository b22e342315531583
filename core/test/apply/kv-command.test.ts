import { expect } from 'chai';
import { AlarmAction, AlarmType } from '../../src/api/services.js';
import { PermissionType } from '../../src/api/auth-types.js';
import { CompareResult, CompareTarget, SortOrder, SortTarget } from '../../src/api/kv-types.js';
import { decodeKvCommand, encodeKvCommand, type KvCommand } from '../../src/apply/kv-command.js';
import { BINARY_COMMAND_V1 } from '../../src/apply/kv-command-binary.js';
import { encodeJsonKvCommand } from '../../src/apply/kv-command-json.js';
import { ProtoReader } from '../../src/etcd-wire/proto-reader.js';
import { ProtoWriter } from '../../src/etcd-wire/proto-writer.js';

const b = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const caller = { username: 'alice', revision: 7 };
const big = b('x'.repeat(300));
const binary = Uint8Array.from({ length: 256 }, (_, i) => i);

/** One of every command kind, with bigints at the int64 edges, empty and binary bytes, and optional fields given as their defaults. */
const EVERY_KIND: readonly KvCommand[] = [
  { op: 'put', request: { key: b('k'), value: b('v') } },
  { op: 'put', request: { key: binary, value: new Uint8Array(0), lease: 2n ** 63n - 1n, prevKv: false, ignoreValue: true, ignoreLease: false }, caller },
  { op: 'put', request: { key: b('neg'), value: big, lease: -(2n ** 63n) } },
  { op: 'put', request: { key: b('zero'), value: b(''), lease: 0n } },
  { op: 'deleteRange', request: { key: b('a') } },
  { op: 'deleteRange', request: { key: b('a'), rangeEnd: b('\0'), prevKv: true }, caller },
  {
    op: 'txn',
    request: {
      compare: [
        { result: CompareResult.Equal, target: CompareTarget.Version, key: b('c'), version: 0 },
        { result: CompareResult.Greater, target: CompareTarget.Create, key: b('c'), createRevision: 2 ** 53 - 1, rangeEnd: b('d') },
        { result: CompareResult.Less, target: CompareTarget.Mod, key: b('c'), modRevision: 3 },
        { result: CompareResult.NotEqual, target: CompareTarget.Value, key: b('c'), value: big },
        { result: CompareResult.Equal, target: CompareTarget.Lease, key: b('c'), lease: 12345678901234567n },
      ],
      success: [
        { requestPut: { key: b('p'), value: b('q'), lease: 5n } },
        { requestDeleteRange: { key: b('r'), rangeEnd: b('s') } },
        {
          requestRange: {
            key: b('t'),
            rangeEnd: b('u'),
            limit: 10,
            revision: 4,
            sortOrder: SortOrder.Descend,
            sortTarget: SortTarget.Mod,
            serializable: false,
            keysOnly: true,
            countOnly: false,
            minModRevision: 1,
            maxModRevision: 2,
            minCreateRevision: 3,
            maxCreateRevision: 0,
          },
        },
        { requestTxn: { compare: [], success: [{ requestRange: { key: b('nested') } }], failure: [] } },
      ],
      failure: [],
    },
    caller,
  },
  { op: 'txn', request: { compare: [], success: [], failure: [] } },
  { op: 'compact', request: { revision: 42 } },
  { op: 'compact', request: { revision: 42, physical: true } },
  { op: 'alarm', action: AlarmAction.Activate, memberId: '10501334649042878790', alarm: AlarmType.NoSpace },
  { op: 'publishMember', memberId: 'abc', name: 'm1', clientURLs: ['http://127.0.0.1:2379', 'https://[::1]:2379'] },
  { op: 'publishMember', memberId: 'abc', name: '', clientURLs: [] },
  { op: 'leaseGrant', id: 7587870000000000000n, ttl: 60 },
  { op: 'leaseRevoke', id: 1n },
  { op: 'leaseRevoke', id: 1n, caller },
  { op: 'leaseRenew', ids: [1n, -1n, 2n ** 62n] },
  { op: 'leaseRenew', ids: [] },
  {
    op: 'leaseCheckpoint',
    checkpoints: [
      { id: 3n, remainingMs: 1234.5 },
      { id: 4n, remainingMs: 0 },
      { id: 5n, remainingMs: -2 },
    ],
  },
  { op: 'authEnable' },
  { op: 'authDisable', caller },
  { op: 'authenticate', name: 'bob', prefix: 'AbCdEf', checkedRevision: 9 },
  { op: 'userAdd', name: 'bøb ✓', password: b('$2b$10$hash'), noPassword: false, caller },
  { op: 'userAdd', name: 'nopass', password: new Uint8Array(0), noPassword: true },
  { op: 'userDelete', name: 'bob' },
  { op: 'userChangePassword', name: 'bob', password: b('$2b$10$other') },
  { op: 'userGrantRole', user: 'bob', role: 'r' },
  { op: 'userRevokeRole', name: 'bob', role: 'r' },
  { op: 'roleAdd', name: 'r' },
  { op: 'roleDelete', role: 'r' },
  { op: 'roleGrantPermission', name: 'r', perm: { permType: PermissionType.ReadWrite, key: b('a'), rangeEnd: b('\0') } },
  { op: 'roleRevokePermission', role: 'r', key: b('a'), rangeEnd: new Uint8Array(0) },
];

/** Uint8Arrays compared by content, whatever their buffer (Buffer views and plain arrays alike). */
function normalized(value: unknown): unknown {
  if (value instanceof Uint8Array) return { bytes: Array.from(value) };
  if (Array.isArray(value)) return value.map(normalized);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalized(v)]));
  return value;
}

describe('committed command encoding', () => {
  it('round-trips every command kind exactly, optional fields given as defaults included', () => {
    const ops = new Set<string>();
    for (const command of EVERY_KIND) {
      const bytes = encodeKvCommand(command);
      expect(bytes[0], command.op).to.equal(BINARY_COMMAND_V1);
      const decoded = decodeKvCommand(bytes);
      expect(normalized(decoded), command.op).to.deep.equal(normalized(command));
      expect(Object.keys(decoded).sort(), command.op).to.deep.equal(Object.keys(command).sort());
      for (const [k, v] of Object.entries(decoded))
        if (typeof v === 'bigint') expect(v, `${command.op}.${k}`).to.equal((command as Record<string, unknown>)[k]);
      ops.add(command.op);
    }
    // Every op the state machine dispatches is covered above.
    expect([...ops].sort()).to.deep.equal(
      [
        'put',
        'deleteRange',
        'txn',
        'compact',
        'alarm',
        'publishMember',
        'leaseGrant',
        'leaseRevoke',
        'leaseRenew',
        'leaseCheckpoint',
        'authEnable',
        'authDisable',
        'authenticate',
        'userAdd',
        'userDelete',
        'userChangePassword',
        'userGrantRole',
        'userRevokeRole',
        'roleAdd',
        'roleDelete',
        'roleGrantPermission',
        'roleRevokePermission',
      ].sort(),
    );
  });

  it('keeps bigints as bigints and bytes as Uint8Arrays that do not share the entry buffer', () => {
    const bytes = encodeKvCommand({ op: 'put', request: { key: b('k'), value: b('v'), lease: 9n } });
    const decoded = decodeKvCommand(bytes) as Extract<KvCommand, { op: 'put' }>;
    expect(decoded.request.lease).to.equal(9n);
    expect(decoded.request.key).to.be.instanceOf(Uint8Array);
    expect(decoded.request.key.buffer).to.not.equal(bytes.buffer);
  });

  it("writes a put as etcd's PutRequest (rpc.proto field numbers) in field 4, and the caller as a RequestHeader in field 100", () => {
    const bytes = encodeKvCommand({ op: 'put', request: { key: b('k'), value: b('vv'), lease: 3n }, caller: { username: 'u', revision: 2 } });
    expect(Array.from(bytes)).to.deep.equal([
      BINARY_COMMAND_V1,
      0xa2,
      0x06,
      5,
      0x12,
      1,
      0x75,
      0x18,
      2, // field 100, length 5: username "u" (2), auth_revision 2 (3)
      0x22,
      9,
      0x0a,
      1,
      0x6b,
      0x12,
      2,
      0x76,
      0x76,
      0x18,
      3, // field 4, length 9: key (1), value (2), lease (3)
    ]);
  });

  it('decodes entries written in the old JSON format', () => {
    for (const command of EVERY_KIND) {
      const old = encodeJsonKvCommand(command);
      expect(old[0]).to.equal(0x7b);
      expect(normalized(decodeKvCommand(old)), command.op).to.deep.equal(normalized(command));
    }
    // Bytes as the old encoder wrote them, verbatim.
    const literal = Buffer.from('{"op":"put","request":{"key":{"$b":"Zm9v"},"value":{"$b":"YmFy"},"lease":{"$n":"5"}},"caller":{"username":"u","revision":3}}');
    expect(normalized(decodeKvCommand(literal))).to.deep.equal(
      normalized({ op: 'put', request: { key: b('foo'), value: b('bar'), lease: 5n }, caller: { username: 'u', revision: 3 } }),
    );
    // A checkpoint entry of before remaining TTLs were replicated (ids instead of checkpoints).
    expect(decodeKvCommand(Buffer.from('{"op":"leaseCheckpoint","ids":[{"$n":"4"}]}'))).to.deep.equal({ op: 'leaseCheckpoint', ids: [4n] });
  });

  it('refuses bytes of an unknown format and truncated commands', () => {
    expect(() => decodeKvCommand(Uint8Array.of(0x02, 0x22, 0x00))).to.throw(/unknown command encoding/);
    expect(() => decodeKvCommand(new Uint8Array(0))).to.throw(/unknown command encoding/);
    const whole = encodeKvCommand({ op: 'put', request: { key: b('key'), value: b('value') } });
    expect(() => decodeKvCommand(whole.subarray(0, whole.length - 2))).to.throw(/truncated/);
    expect(() => decodeKvCommand(Uint8Array.of(BINARY_COMMAND_V1))).to.throw(/no request/);
  });

  it('refuses a lease ID outside int64 at encode rather than wrapping it', () => {
    expect(() => encodeKvCommand({ op: 'leaseRevoke', id: 2n ** 63n })).to.throw(RangeError);
  });
});

describe('ProtoWriter / ProtoReader', () => {
  it('round-trips varints at their edges, doubles, and nested messages longer than 127 bytes', () => {
    const numbers = [0, 1, 127, 128, 16383, 16384, 2 ** 31, 2 ** 32, 2 ** 53 - 1, -1, -(2 ** 53) + 1, 0.5, -1.25, 1e300];
    const longs = [0n, 1n, 2n ** 53n, 2n ** 63n - 1n, -1n, -(2n ** 63n)];
    const w = new ProtoWriter(4);
    for (const n of numbers) w.number(1, n);
    for (const n of longs) w.int64(2, n);
    w.message(3, (m) => m.bytes(1, big).message(2, (n) => n.string(1, 'ü'.repeat(200))));
    const r = new ProtoReader(w.finish());
    const readNumbers: number[] = [];
    const readLongs: bigint[] = [];
    let nested = '';
    let nestedBytes: Uint8Array | undefined;
    for (let f = r.next(); f !== 0; f = r.next()) {
      if (f === 1) readNumbers.push(r.number());
      else if (f === 2) readLongs.push(r.int64());
      else {
        const m = r.message();
        for (let g = m.next(); g !== 0; g = m.next()) {
          if (g === 1) nestedBytes = m.bytesField();
          else nested = m.message().next() === 1 ? 'x' : '';
        }
      }
    }
    expect(readNumbers).to.deep.equal(numbers);
    expect(readLongs).to.deep.equal(longs);
    expect(Array.from(nestedBytes ?? [])).to.deep.equal(Array.from(big));
    expect(nested).to.equal('x');
  });
});
