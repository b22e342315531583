import { expect } from 'chai';
import { renderGrowthSection, type GrowthSample } from './compare-growth-table.js';
import { selectRows, type CompareRow } from './compare-rows.js';
import {
  COMPARE_BEGIN,
  COMPARE_END,
  median,
  renderCompareSection,
  replaceBetweenMarkers,
  summarizeRuns,
  type RunMeta,
  type RunSample,
  type Server,
} from './compare-table.js';
import { decodeWatchResponse } from './compare-watch-events.js';

const ROWS: readonly CompareRow[] = [
  { id: 'put-1', label: 'put, 1 client', phase: 'put', script: 'cli.js', args: [] },
  { id: 'put-64', label: 'put, 64 clients', phase: 'put', script: 'cli.js', args: [] },
  { id: 'range-64', label: 'range linearizable, 64 clients', phase: 'read', script: 'cli.js', args: [] },
];

function sample(server: Server, rep: number, row: string, opsPerSec: number, p50: number, p99: number, extra: Partial<RunSample> = {}): RunSample {
  return {
    members: 3,
    server,
    rep,
    row,
    serverCpuSec: 0,
    machineBusySec: 0,
    wallSec: 0,
    result: { ops: opsPerSec * 10, errors: 0, errorSamples: [], opsPerSec, latencyMs: { p50, p99 }, cpu: { userMs: 0, systemMs: 0 } },
    ...extra,
  };
}

const META: RunMeta = {
  date: '2026-12-07T19:20:31.123Z',
  commit: 'abc1234',
  dirty: false,
  nproc: 2,
  cpuModel: 'AMD EPYC',
  nodeVersion: 'v20.20.2',
  etcdVersion: '3.4.23',
  durationSec: 3,
  reps: 3,
  conns: 4,
  command: 'DURATION=3 npm run bench:compare',
  elapsedSec: 600,
};

describe('bench:compare table', () => {
  it('takes the median of odd and even counts, and nothing of none', () => {
    expect(median([3, 1, 2])).to.equal(2);
    expect(median([10, 1, 4, 2])).to.equal(3);
    expect(median([5])).to.equal(5);
    expect(median([])).to.equal(undefined);
  });

  it('gives each server the median of its repetitions and the ratio of the medians', () => {
    const samples = [
      sample('etcd', 1, 'put-64', 1000, 10, 50),
      sample('cairn', 1, 'put-64', 700, 20, 90),
      sample('etcd', 2, 'put-64', 3000, 12, 40),
      sample('cairn', 2, 'put-64', 900, 14, 70),
      sample('etcd', 3, 'put-64', 2000, 11, 60),
      sample('cairn', 3, 'put-64', 1100, 18, 80),
    ];
    const [row] = summarizeRuns(samples, ROWS).rows;
    expect(row!.row).to.equal('put-64');
    expect(row!.etcd!.opsPerSec).to.equal(2000);
    expect(row!.etcd!.p50Ms).to.equal(11);
    expect(row!.etcd!.p99Ms).to.equal(50);
    expect(row!.etcd!.opsPerSecRuns).to.deep.equal([1000, 3000, 2000]);
    expect(row!.cairn!.opsPerSec).to.equal(900);
    expect(row!.cairn!.p99Ms).to.equal(80);
    expect(row!.ratio).to.equal(0.45);
  });

  it('counts a repetition without a result as missing, not as zero', () => {
    const samples = [
      sample('etcd', 1, 'range-64', 100, 1, 2),
      sample('etcd', 2, 'range-64', 300, 1, 2),
      { ...sample('etcd', 3, 'range-64', 0, 0, 0), result: undefined },
      sample('cairn', 1, 'range-64', 50, 1, 2),
    ];
    const [row] = summarizeRuns(samples, ROWS).rows;
    expect(row!.etcd!.opsPerSec).to.equal(200);
    expect(row!.etcd!.missingRuns).to.equal(1);
    expect(row!.ratio).to.equal(0.25);
  });

  it('divides the server CPU of each repetition’s put runs by its puts, then takes the median', () => {
    const samples = [
      // rep 1: 2 s over 1000 + 9000 puts = 0.2 ms; rep 2: 0.5 ms; rep 3: 0.3 ms.
      sample('etcd', 1, 'put-1', 100, 1, 1, { serverCpuSec: 0.5 }),
      sample('etcd', 1, 'put-64', 900, 1, 1, { serverCpuSec: 1.5 }),
      sample('etcd', 2, 'put-1', 100, 1, 1, { serverCpuSec: 2 }),
      sample('etcd', 2, 'put-64', 900, 1, 1, { serverCpuSec: 3 }),
      sample('etcd', 3, 'put-1', 100, 1, 1, { serverCpuSec: 1 }),
      sample('etcd', 3, 'put-64', 900, 1, 1, { serverCpuSec: 2 }),
      // cairn: 6 s over 10,000 puts in its only repetition; the range run's CPU is not a put's.
      sample('cairn', 1, 'put-1', 100, 1, 1, { serverCpuSec: 1 }),
      sample('cairn', 1, 'put-64', 900, 1, 1, { serverCpuSec: 5 }),
      sample('cairn', 1, 'range-64', 900, 1, 1, { serverCpuSec: 100 }),
    ];
    const [cpu] = summarizeRuns(samples, ROWS).cpuPerPut;
    expect(cpu!.members).to.equal(3);
    expect(cpu!.etcdMs).to.be.closeTo(0.3, 1e-9);
    expect(cpu!.cairnMs).to.be.closeTo(0.6, 1e-9);
    expect(cpu!.ratio).to.be.closeTo(2, 1e-9);
    expect(cpu!.rows).to.deep.equal(['put-1', 'put-64']);
  });

  it('reports the CPU of other processes: the machine’s busy time less the servers’ and the generator’s', () => {
    const busy = (server: Server, rep: number, machineBusySec: number) =>
      sample(server, rep, 'put-1', 100, 1, 1, {
        serverCpuSec: 1,
        machineBusySec,
        wallSec: 2,
        result: { ops: 1000, errors: 0, errorSamples: [], opsPerSec: 100, latencyMs: { p50: 1, p99: 1 }, cpu: { userMs: 400, systemMs: 100 } },
      });
    const summary = summarizeRuns([busy('etcd', 1, 1.5), busy('cairn', 1, 2.5), busy('etcd', 2, 3.5)], ROWS);
    expect(summary.outsideLoadCores).to.deep.equal({ median: 0.5, max: 1 });
  });

  it('renders one table line per row and member count, ratios and latencies in columns', () => {
    const samples = [
      sample('etcd', 1, 'put-64', 3663, 14, 40.26),
      sample('cairn', 1, 'put-64', 2013, 26.9, 120),
      { ...sample('etcd', 1, 'put-1', 505, 1.72, 5), members: 1 },
    ];
    const text = renderCompareSection(summarizeRuns(samples, ROWS), META);
    const lines = text.split('\n');
    expect(lines[0]).to.contain('Generated 2026-12-07 19:20 UTC by `DURATION=3 npm run bench:compare` at commit abc1234');
    expect(lines).to.include('| workload | members | etcd ops/s | cairn ops/s | ratio | etcd p50/p99 ms | cairn p50/p99 ms |');
    expect(lines).to.include('| put, 64 clients | 3 | 3663 | 2013 | 0.55 | 14.0 / 40.3 | 26.9 / 120 |');
    expect(lines).to.include('| put, 1 client | 1 | 505 | n/a | n/a | 1.72 / 5.00 | n/a |');
    expect(lines.indexOf('| put, 1 client | 1 | 505 | n/a | n/a | 1.72 / 5.00 | n/a |')).to.be.lessThan(
      lines.indexOf('| put, 64 clients | 3 | 3663 | 2013 | 0.55 | 14.0 / 40.3 | 26.9 / 120 |'),
    );
    expect(text).to.contain('put, 1 client, 1 member(s), cairn: no run produced a result');
  });

  it('replaces only what lies between the markers', () => {
    const doc = `# Performance\n\nprose before\n\n${COMPARE_BEGIN}\nold table\n${COMPARE_END}\n\nprose after\n`;
    const out = replaceBetweenMarkers(doc, COMPARE_BEGIN, COMPARE_END, 'new table\n');
    expect(out).to.equal(`# Performance\n\nprose before\n\n${COMPARE_BEGIN}\nnew table\n${COMPARE_END}\n\nprose after\n`);
    expect(replaceBetweenMarkers(out, COMPARE_BEGIN, COMPARE_END, 'new table')).to.equal(out);
  });

  it('refuses a document whose markers are missing, repeated or out of order', () => {
    expect(() => replaceBetweenMarkers('no markers', COMPARE_BEGIN, COMPARE_END, 'x')).to.throw('once each');
    expect(() => replaceBetweenMarkers(`${COMPARE_BEGIN}${COMPARE_BEGIN}${COMPARE_END}`, COMPARE_BEGIN, COMPARE_END, 'x')).to.throw('once each');
    expect(() => replaceBetweenMarkers(`${COMPARE_END}\n${COMPARE_BEGIN}`, COMPARE_BEGIN, COMPARE_END, 'x')).to.throw('comes before');
  });

  it('selects rows by id or id prefix, and refuses a word that selects none', () => {
    expect(selectRows('', ROWS).map((r) => r.id)).to.deep.equal(['put-1', 'put-64', 'range-64']);
    expect(selectRows('put', ROWS).map((r) => r.id)).to.deep.equal(['put-1', 'put-64']);
    expect(selectRows('range-64, put-1', ROWS).map((r) => r.id)).to.deep.equal(['put-1', 'range-64']);
    expect(() => selectRows('pu', ROWS)).to.throw('names no row');
  });
});

describe('bench:compare growth table', () => {
  it('puts each measure of both servers on one line with the ratio cairn ÷ etcd', () => {
    const growth = (server: Server, scale: number): GrowthSample => ({
      server,
      keys: 1000000,
      valueBytes: 1024,
      loadSec: 300 * scale,
      loadPutsPerSec: 3333 / scale,
      rssMiB: 1200 * scale,
      rssAnonMiB: 100 * scale,
      diskMiB: 1500,
      restartSec: 2 * scale,
      rssAfterRestartMiB: 900,
      rangeOpsPerSec: 5000,
      rangeP99Ms: 40,
    });
    const small: GrowthSample = { ...growth('etcd', 1), keys: 10000, rssMiB: 60 };
    const lines = renderGrowthSection([growth('etcd', 1), growth('cairn', 2), small], META).split('\n');
    expect(lines[0]).to.contain('10,000 / 1,000,000 keys of 1024 B');
    expect(lines).to.include('| RSS after the load, MiB | 1,000,000 | 1200 | 2400 | 2.00 |');
    expect(lines).to.include('| restart to the first linearizable read, s | 1,000,000 | 2.00 | 4.00 | 2.00 |');
    expect(lines).to.include('| load at 64 clients, puts/s | 1,000,000 | 3333 | 1667 | 0.50 |');
    // The smaller store comes first, its cairn figures missing; measures without a value say n/a.
    expect(lines.indexOf('| RSS after the load, MiB | 10,000 | 60 | n/a | n/a |')).to.equal(
      lines.indexOf('| RSS after the load, MiB | 1,000,000 | 1200 | 2400 | 2.00 |') - 1,
    );
    expect(lines).to.include('| put over the loaded keys, 64 clients, ops/s | 1,000,000 | n/a | n/a | n/a |');
  });

  it('says n/a for a server that has no sample', () => {
    const only: GrowthSample = {
      server: 'etcd',
      keys: 10,
      valueBytes: 1,
      loadSec: 1,
      loadPutsPerSec: 10,
      rssMiB: 5,
      rssAnonMiB: 1,
      diskMiB: 1,
      restartSec: 1,
      rssAfterRestartMiB: 5,
      rangeOpsPerSec: 1,
      rangeP99Ms: 1,
    };
    expect(renderGrowthSection([only], META)).to.contain('| RSS after the load, MiB | 10 | 5 | n/a | n/a |');
  });
});

describe('bench:compare watch events', () => {
  const field = (n: number, bytes: Buffer): Buffer => Buffer.concat([Buffer.from([(n << 3) | 2, bytes.length]), bytes]);
  const varint = (n: number, v: number): Buffer => Buffer.from([n << 3, v]);

  it('reads created, canceled and the key and value of each event from a WatchResponse', () => {
    const kv = (key: string, value: string): Buffer =>
      Buffer.concat([field(1, Buffer.from(key)), varint(2, 5), varint(3, 7), varint(4, 1), field(5, Buffer.from(value))]);
    const event = (key: string, value: string): Buffer => Buffer.concat([varint(1, 0), field(2, kv(key, value))]);
    const header = field(1, Buffer.concat([varint(3, 9), varint(4, 2)]));
    const response = Buffer.concat([header, varint(2, 1), field(11, event('bench-fanout/3', '3:17')), field(11, event('bench-fanout/4', '4:2'))]);
    const decoded = decodeWatchResponse(response);
    expect(decoded.created).to.equal(false);
    expect(decoded.canceled).to.equal(false);
    expect(decoded.events.map((e) => [e.key.toString(), e.value.toString()])).to.deep.equal([
      ['bench-fanout/3', '3:17'],
      ['bench-fanout/4', '4:2'],
    ]);
    expect(decodeWatchResponse(Buffer.concat([header, varint(3, 1)])).created).to.equal(true);
    expect(decodeWatchResponse(Buffer.concat([header, varint(4, 1)])).canceled).to.equal(true);
  });

  it('refuses a truncated response rather than reading past it', () => {
    expect(() => decodeWatchResponse(Buffer.from([(11 << 3) | 2, 40, 1, 2]))).to.throw('truncated');
  });
});
