#!/usr/bin/env node
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { renderReport } from './render-report.js';
import { parseRecords, type RunRecord } from './run-record.js';
import { SUITES } from './suite-catalogue.js';

/** test/dist/reliability/report.js → the repository root. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

const USAGE = `Writes docs/reliability.md from reliability run records (JSON lines).

  npm run reliability:report [-- --records FILE ... --out FILE]
options:
  --records FILE   records to read (repeatable; default docs/reliability-runs.jsonl)
  --out FILE       where to write the report (default docs/reliability.md)`;

function main(): number {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', multiple: true },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const sources = values.records ?? [join(ROOT, 'docs/reliability-runs.jsonl')];
  const out = values.out ?? join(ROOT, 'docs/reliability.md');
  const records: RunRecord[] = [];
  for (const source of sources) {
    if (!existsSync(source)) {
      console.error(`no such record file: ${source}`);
      return 1;
    }
    const parsed = parseRecords(readFileSync(source, 'utf8'), source);
    for (const why of parsed.rejected) console.error(`skipped ${why}`);
    records.push(...parsed.records);
  }
  // Paths inside the repository are named from its root, others as they are.
  const named = sources
    .map((s) => {
      const inRepo = relative(ROOT, resolve(s));
      return inRepo.startsWith('..') ? resolve(s) : inRepo;
    })
    .join(', ');
  const text = renderReport({ records, source: named, suites: SUITES, present: (path) => existsSync(join(ROOT, path)) });
  writeFileSync(out, text);
  console.log(`${relative(process.cwd(), out) || out}: ${records.length} records from ${named}`);
  return 0;
}

process.exitCode = main();
