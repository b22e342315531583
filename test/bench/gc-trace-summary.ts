#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

const USAGE = `usage: node test/dist/bench/gc-trace-summary.js [--ops N] [--from MS] FILE.log...

Reads the lines \`node --trace-gc\` prints (e.g. members' logs kept by cpu-per-put.sh's LOG_DIR) and
prints, per file: how many scavenges and mark-compacts ran, their pause time, and the heap bytes
allocated (the heap before each GC less the heap after the one before it; external memory such as
Buffers outside the heap is not counted). --ops divides allocation and pauses by that many
operations (e.g. the puts the members served); --from skips GCs before that many ms of process life.`;

/** `[pid:0x...]   1234 ms: Scavenge 4.4 (5.5) -> 4.0 (6.2) MB, 6.92 / 0.00 ms ...` */
const LINE =
  /^\[\d+:0x[0-9a-f]+\]\s+(\d+) ms: (Scavenge|Mark-Compact|Mark-sweep|Mark-Compact \(reduce\))[^\d]*([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB, ([\d.]+) \/ ([\d.]+) ms/;

export interface GcTraceSummary {
  readonly scavenges: number;
  readonly markCompacts: number;
  readonly pauseMs: number;
  readonly allocatedMb: number;
}

export function summarizeGcTrace(text: string, fromMs = 0): GcTraceSummary {
  let scavenges = 0;
  let markCompacts = 0;
  let pauseMs = 0;
  let allocatedMb = 0;
  let lastAfter: number | undefined;
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (m === null) continue;
    const [at, kind, before, after, pause] = [Number(m[1]), m[2]!, Number(m[3]), Number(m[5]), Number(m[7])];
    if (at >= fromMs) {
      if (kind === 'Scavenge') scavenges++;
      else markCompacts++;
      pauseMs += pause;
      if (lastAfter !== undefined) allocatedMb += Math.max(0, before - lastAfter);
    }
    lastAfter = after;
  }
  return { scavenges, markCompacts, pauseMs, allocatedMb };
}

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { ops: { type: 'string' }, from: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help || positionals.length === 0) {
    (values.help ? console.log : console.error)(USAGE);
    return values.help ? 0 : 2;
  }
  const ops = values.ops === undefined ? undefined : Number(values.ops);
  const fromMs = Number(values.from ?? 0);
  for (const file of positionals) {
    const s = summarizeGcTrace(await readFile(file, 'utf8'), fromMs);
    const per =
      ops === undefined ? '' : `; per op: ${((s.allocatedMb * 1024) / ops).toFixed(1)} KB allocated, ${((s.pauseMs * 1000) / ops).toFixed(1)} µs paused`;
    console.log(
      `${file}: ${s.scavenges} scavenges, ${s.markCompacts} mark-compacts, ${s.pauseMs.toFixed(0)} ms paused, ${s.allocatedMb.toFixed(0)} MB allocated${per}`,
    );
  }
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 2;
    },
  );
}
