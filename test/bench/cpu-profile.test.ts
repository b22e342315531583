import { expect } from 'chai';
import { formatProfileSummary, RUNTIME_AREA, summarizeCpuProfile, type CpuProfile, type CpuProfileNode } from './cpu-profile.js';

const frame = (id: number, functionName: string, url: string, children: number[] = []): CpuProfileNode => ({
  id,
  callFrame: { functionName, url, lineNumber: 9, columnNumber: 0 },
  children,
});

/**
 * root ─ (idle)
 *      ├ (garbage collector)
 *      ├ onStreamRead (node:internal) ─ sendUnaryMessage (grpc-js) ─ writev (native)
 *      ├ processTicksAndRejections (node:internal) ─ tick (raft) ─ writev (native)
 *      └ listOnTimeout (node:internal)
 */
const profile: CpuProfile = {
  nodes: [
    frame(1, '(root)', '', [2, 3, 4, 7, 10]),
    frame(2, '(idle)', ''),
    frame(3, '(garbage collector)', ''),
    frame(4, 'onStreamRead', 'node:internal/stream_base_commons', [5]),
    frame(5, 'sendUnaryMessage', 'file:///repo/node_modules/@grpc/grpc-js/build/src/server.js', [6]),
    frame(6, 'writev', ''),
    frame(7, 'processTicksAndRejections', 'node:internal/process/task_queues', [8]),
    frame(8, 'tick', 'file:///repo/core/dist/src/raft/raft.js', [9]),
    frame(9, 'writev', ''),
    frame(10, 'listOnTimeout', 'node:internal/timers'),
  ],
  startTime: 0,
  endTime: 10_000,
  // Each sample counts until the next one: 1 ms apart, the last one until endTime.
  samples: [2, 2, 2, 2, 3, 6, 6, 9, 5, 10],
  timeDeltas: [0, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
};

describe('cpu profile summary', () => {
  const summary = summarizeCpuProfile(profile);
  const area = (name: string): number | undefined => summary.areas.find((a) => a.name.startsWith(name))?.ms;

  it('counts each sample until the next one', () => {
    expect(summary.spanMs).to.equal(10);
    expect(summary.samples).to.equal(10);
    expect(summary.idleMs).to.equal(4);
  });

  it('charges a frame without an area of its own (native writev) to its nearest caller that has one', () => {
    expect(area('grpc/protobuf')).to.equal(3); // sendUnaryMessage itself, and writev twice under it
    expect(area('raft')).to.equal(1); // writev under tick
    expect(area('GC')).to.equal(1);
    expect(area('idle')).to.equal(4);
    expect(summary.areas.find((a) => a.name === RUNTIME_AREA)?.ms).to.equal(1); // a timer with no caller in an area
  });

  it('lists self time per function and per file, largest first', () => {
    expect(summary.functions[0]).to.deep.include({ functionName: '(idle)', selfMs: 4 });
    const writev = summary.functions.filter((f) => f.functionName === 'writev').map((f) => [f.area.split(' ')[0], f.selfMs]);
    expect(writev).to.deep.equal([
      ['grpc/protobuf', 2],
      ['raft', 1],
    ]);
    expect(summary.files[0]).to.deep.equal({ url: '(native or VM)', selfMs: 8 });
    expect(summary.files.find((f) => f.url.endsWith('grpc-js/build/src/server.js'))?.selfMs).to.equal(1);
  });

  it('keeps only the samples inside a window, when one is given', () => {
    const load = summarizeCpuProfile(profile, { fromMs: 5 });
    expect(load.samples).to.equal(5);
    expect(load.spanMs).to.equal(5);
    expect(load.idleMs).to.equal(0);
    expect(load.areas.find((a) => a.name.startsWith('grpc/protobuf'))?.ms).to.equal(3);
    expect(summarizeCpuProfile(profile, { fromMs: 1, toMs: 4 }).areas).to.deep.equal([{ name: 'idle', ms: 3 }]);
  });

  it('formats shares of all time and of busy (not idle) time', () => {
    const text = formatProfileSummary(summary, 5, '/repo/');
    expect(text).to.contain('busy (not idle) 0.0 s = 60.0%');
    expect(text).to.match(/grpc\/protobuf .* 3 +30\.0% +50\.0%/);
    expect(text).to.contain('node_modules/@grpc/grpc-js/build/src/server.js');
    expect(text).not.to.contain('/repo/');
  });
});
