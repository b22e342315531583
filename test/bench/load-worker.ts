import { parentPort, workerData } from 'node:worker_threads';
import type { BenchOptions } from './bench-options.js';
import { measure } from './load-run.js';

// One --workers thread: measure its share and hand the result (latencies moved, not copied) back.
const run = await measure(workerData as BenchOptions);
parentPort!.postMessage(run, [run.latencies.buffer as ArrayBuffer]);
