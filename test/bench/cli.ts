#!/usr/bin/env node
import { parseBenchOptions, UsageError, USAGE } from './bench-options.js';
import { formatBenchReport } from './bench-report.js';
import { runBench } from './load-run.js';

/** `npm run bench -- --workload put --clients 64 ...`: exit 0 when done, 1 when any call failed, 2 on bad usage. */
async function main(argv: readonly string[]): Promise<number> {
  let options;
  try {
    options = parseBenchOptions(argv);
  } catch (err) {
    if (err instanceof UsageError || (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  if (options === undefined) {
    console.log(USAGE);
    return 0;
  }
  const result = await runBench(options);
  console.log(options.json ? JSON.stringify(result) : formatBenchReport(result));
  return result.errors > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`bench: ${(err as Error).message}`);
    process.exitCode = 1;
  },
);
