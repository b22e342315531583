// Runs the rewrite workload on the log store with eager rewrites:
//   node [execArgv] rewrite-workload-child.js <directory> <operations>
// and prints `ready <pid>`, `ack <n>` after operation n resolved, and `done` after close. Lines go
// out with one write(2) each, before the next operation starts, so a printed ack survives a SIGKILL.
import { writeSync } from 'node:fs';
import { createLogStore } from './file-stores-eager-rewrite.js';
import { applyRewriteOperation, rewriteWorkload } from './rewrite-workload.js';

const say = (line: string): void => {
  writeSync(1, `${line}\n`);
};

const [directory, count] = process.argv.slice(2);
const store = createLogStore(directory!);
await store.open();
say(`ready ${process.pid}`);
const ops = rewriteWorkload(Number(count));
for (let n = 1; n <= ops.length; n++) {
  await applyRewriteOperation(store, ops[n - 1]!);
  say(`ack ${n}`);
}
await store.close();
say('done');
