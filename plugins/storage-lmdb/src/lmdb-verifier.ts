import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CorruptStorageError } from '@cairn/core';

/**
 * Walks every database of the environment in a child process before this process maps the file.
 * LMDB keeps no page checksums, and lmdb-js does not survive a damaged page: a torn or flipped
 * B-tree page takes the whole process down with SIGSEGV or SIGBUS. A child that dies that way
 * tells us the file is damaged, and open() can refuse it with an error naming it instead.
 */
const WALK = `
import { createRequire } from 'node:module';
const [directory, lmdbPath] = process.argv.slice(1);
const { open } = createRequire(lmdbPath)(lmdbPath);
const env = open({ path: directory, noSubdir: false, readOnly: true, maxDbs: 8, encoding: 'binary', keyEncoding: 'binary' });
let pairs = 0;
const names = [];
// Root keys are the named databases (lmdb-js stores their names NUL-terminated) and the format marker.
for (const { key } of env.getRange({})) { pairs++; names.push(Buffer.from(key).toString('latin1').replace(/\\0$/, '')); }
for (const name of names) {
  let db;
  try { db = env.openDB({ name, encoding: 'binary', keyEncoding: 'binary' }); } catch { continue; }
  if (db === undefined) continue; // a plain key of the root database
  // Values are copied out of the map: every overflow page is read.
  for (const _ of db.getRange({})) pairs++;
}
await env.close();
process.stdout.write('walked ' + pairs);
`;

/** Rejects with CorruptStorageError naming `dataFile` when reading every page of it fails or crashes. */
export async function verifyEnvironment(directory: string, dataFile: string): Promise<void> {
  let size: number;
  try {
    size = statSync(dataFile).size;
  } catch {
    return; // nothing to verify yet
  }
  if (size === 0) return;
  const lmdbPath = createRequire(import.meta.url).resolve('lmdb');
  const env = { ...process.env };
  delete env['NODE_OPTIONS']; // the walk needs plain Node, not the test runner's loaders
  const child = spawn(process.execPath, ['--input-type=module', '-e', WALK, directory, lmdbPath], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    err += s;
  });
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  if (code === 0 && out.startsWith('walked ')) return;
  if (signal !== null) {
    throw new CorruptStorageError(dataFile, `LMDB crashed (${signal}) reading the file: its pages are damaged or the file was cut short`);
  }
  const reason = /Error: (.*)/.exec(err)?.[1] ?? (err.trim().split('\n').pop() || `exit code ${String(code)}`);
  if (/MDB_|Invalid|corrupt/i.test(reason)) throw new CorruptStorageError(dataFile, `LMDB cannot read the file: ${reason}`);
  throw new Error(`${dataFile}: could not verify the LMDB environment (${reason})`);
}
