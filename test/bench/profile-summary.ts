#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatProfileSummary, summarizeCpuProfile, type CpuProfile } from './cpu-profile.js';

const USAGE = `usage: node test/dist/bench/profile-summary.js [--top N] [--from S] [--to S] [--json] FILE.cpuprofile...

Where a process's CPU time went, from the profile \`node --cpu-prof\` writes at exit: the time per
area of Cairn (gRPC/protobuf, raft, mvcc, storage, transport, GC, idle, ...), then the functions and
files with the most self time. --from/--to keep only the samples taken that many seconds after the
profile began (e.g. the load phase, without startup). Several files are summarized one after another.`;

/** The repository root (test/dist/bench → ../../..), cut from paths to keep lines short. */
const repoRoot = `${resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')}/`;

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: { top: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } },
  });
  if (values.help || positionals.length === 0) {
    (values.help ? console.log : console.error)(USAGE);
    return values.help ? 0 : 2;
  }
  const top = Number(values.top ?? 25);
  if (!Number.isInteger(top) || top < 1) {
    console.error(`--top must be a positive integer, not "${values.top}"\n\n${USAGE}`);
    return 2;
  }
  const seconds = (name: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!(n >= 0)) throw new Error(`--${name} must be a number of seconds, not "${text}"`);
    return n * 1000;
  };
  const window = { fromMs: seconds('from', values.from), toMs: seconds('to', values.to) };
  for (const file of positionals) {
    const summary = summarizeCpuProfile(JSON.parse(await readFile(file, 'utf8')) as CpuProfile, window);
    if (values.json) console.log(JSON.stringify({ file, ...summary }));
    else console.log(`${positionals.length > 1 ? '\n' : ''}${file}\n${formatProfileSummary(summary, top, repoRoot)}`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`profile-summary: ${(err as Error).message}`);
    process.exitCode = 1;
  },
);
