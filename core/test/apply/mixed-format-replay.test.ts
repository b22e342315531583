import { expect } from 'chai';
import { AlarmRegistry } from '../../src/alarm/alarm-registry.js';
import { CompareResult, CompareTarget } from '../../src/api/kv-types.js';
import type { ResponseHeaders } from '../../src/api/response-headers.js';
import { encodeKvCommand, type KvCommand } from '../../src/apply/kv-command.js';
import { encodeJsonKvCommand } from '../../src/apply/kv-command-json.js';
import { KvStateMachine } from '../../src/apply/kv-state-machine.js';
import { MemoryBackend } from '../../src/memory/memory-backend.js';
import { MvccStore } from '../../src/mvcc/mvcc-store.js';

const headers: ResponseHeaders = { header: (revision) => ({ clusterId: 1n, memberId: 2n, revision, raftTerm: 1 }) };
const b = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const text = (u: Uint8Array): string => Buffer.from(u).toString('latin1');

describe('a log holding commands of both encodings (a data dir written before the binary format)', () => {
  it('applies old JSON entries and new binary ones alike, in log order', async () => {
    const backend = new MemoryBackend();
    const mvcc = await MvccStore.open(backend, { header: headers.header });
    const machine = new KvStateMachine(mvcc, new AlarmRegistry(backend));
    const log: [KvCommand, 'json' | 'binary'][] = [
      [{ op: 'put', request: { key: b('a'), value: b('1') } }, 'json'],
      [{ op: 'put', request: { key: b('b'), value: b('2') } }, 'binary'],
      [
        {
          op: 'txn',
          request: {
            compare: [{ result: CompareResult.Equal, target: CompareTarget.Value, key: b('a'), value: b('1') }],
            success: [{ requestPut: { key: b('c'), value: b('3') } }],
            failure: [],
          },
        },
        'json',
      ],
      [{ op: 'deleteRange', request: { key: b('b') } }, 'binary'],
      [{ op: 'put', request: { key: b('a'), value: b('4'), prevKv: true } }, 'json'],
    ];
    let index = 0;
    for (const [command, format] of log) {
      const payload = format === 'json' ? encodeJsonKvCommand(command) : encodeKvCommand(command);
      const outcome = (await machine.apply(++index, payload)) as { ok?: unknown; error?: Error };
      expect(outcome.error, `${format} ${command.op}`).to.equal(undefined);
    }
    const { kvs } = await mvcc.range({ key: b('a'), rangeEnd: b('z') });
    expect(kvs.map((kv) => [text(kv.key), text(kv.value), kv.modRevision])).to.deep.equal([
      ['a', '4', 6],
      ['c', '3', 4],
    ]);
    expect(mvcc.appliedIndex).to.equal(5);
  });
});
