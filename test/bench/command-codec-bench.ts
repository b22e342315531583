#!/usr/bin/env node
import { parseArgs } from 'node:util';

const USAGE = `usage: node test/dist/bench/command-codec-bench.js [--iterations N] [--value-size B]

Microseconds per encode and per decode of a committed put command (key 8 B, value --value-size B,
no lease, no caller) in the current binary encoding and in the old JSON one, from core/dist (build
core first). Each figure is the median of 7 timed passes of N operations after a warm-up pass.`;

interface CommandCodecs {
  encodeKvCommand(command: unknown): Uint8Array;
  decodeKvCommand(bytes: Uint8Array): unknown;
}
interface JsonCodecs {
  encodeJsonKvCommand(command: unknown): Uint8Array;
  decodeJsonKvCommand(bytes: Uint8Array): unknown;
}

/** The core's internal modules, from its build (they are not part of its public exports). */
const core = (path: string): string => new URL(`../../../core/dist/src/${path}`, import.meta.url).href;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** µs per call of `run` over `iterations` calls, median of 7 passes after one warm-up pass. */
function time(iterations: number, run: (i: number) => void): number {
  const passes: number[] = [];
  for (let pass = 0; pass < 8; pass++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) run(i);
    const us = Number(process.hrtime.bigint() - start) / 1000 / iterations;
    if (pass > 0) passes.push(us);
  }
  return median(passes);
}

async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...argv], options: { iterations: { type: 'string' }, 'value-size': { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const iterations = Number(values.iterations ?? 50_000);
  const valueSize = Number(values['value-size'] ?? 8);
  const binary = (await import(core('apply/kv-command.js'))) as CommandCodecs;
  const json = (await import(core('apply/kv-command-json.js'))) as JsonCodecs;
  const commands = Array.from({ length: 1024 }, (_, i) => ({
    op: 'put',
    request: { key: new Uint8Array(Buffer.from(String(i).padStart(8, '0'))), value: new Uint8Array(valueSize).fill(i & 0xff) },
  }));
  const binaryBytes = commands.map((c) => binary.encodeKvCommand(c));
  const jsonBytes = commands.map((c) => json.encodeJsonKvCommand(c));
  let sink = 0;
  const rows: [string, number, number, number][] = [
    [
      'binary',
      binaryBytes[0]!.byteLength,
      time(iterations, (i) => (sink += binary.encodeKvCommand(commands[i & 1023]).byteLength)),
      time(iterations, (i) => (sink += binary.decodeKvCommand(binaryBytes[i & 1023]!) === undefined ? 0 : 1)),
    ],
    [
      'json (old)',
      jsonBytes[0]!.byteLength,
      time(iterations, (i) => (sink += json.encodeJsonKvCommand(commands[i & 1023]).byteLength)),
      time(iterations, (i) => (sink += binary.decodeKvCommand(jsonBytes[i & 1023]!) === undefined ? 0 : 1)),
    ],
  ];
  console.log(`put command, key 8 B, value ${valueSize} B, ${iterations} operations a pass`);
  console.log('format        bytes  encode µs  decode µs');
  for (const [name, bytes, encode, decode] of rows) {
    console.log(`${name.padEnd(12)}  ${String(bytes).padStart(5)}  ${encode.toFixed(3).padStart(9)}  ${decode.toFixed(3).padStart(9)}`);
  }
  if (sink < 0) console.log(sink);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(`command-codec-bench: ${(err as Error).message}`);
    process.exitCode = 1;
  },
);
