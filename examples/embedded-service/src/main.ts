import type { AddressInfo } from 'node:net';
import { startEmbedded } from '@cairn/embed';
import { CounterService } from './counter-service.js';
import { counterHttpServer } from './http-api.js';

/*
 * The service: a Cairn member embedded in this process (its data under CAIRN_DATA_DIR), the
 * counters' HTTP API on HOST:PORT. SIGINT or SIGTERM stops it cleanly: the HTTP server, then the
 * session (its lease revoked), then the member.
 */
const dataDir = process.env['CAIRN_DATA_DIR'] ?? 'data';
const host = process.env['HOST'] ?? '127.0.0.1';
const port = Number(process.env['PORT'] ?? 8080);

const cairn = await startEmbedded({ 'name': 'embedded-service', 'data-dir': dataDir, 'log-level': 'warn' });
const session = await cairn.client.session({ ttl: 10 });
const server = counterHttpServer(new CounterService(cairn.client, session));
await new Promise<void>((resolve) => server.listen(port, host, resolve));
console.log(`embedded-service: serving http://${host}:${(server.address() as AddressInfo).port} (data in ${dataDir})`);

let stopping = false;
async function stop(reason: string, exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`embedded-service: stopping (${reason})`);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await session.close().catch(() => undefined);
  await cairn.close();
  process.exitCode = exitCode;
}
process.once('SIGINT', () => void stop('SIGINT', 0));
process.once('SIGTERM', () => void stop('SIGTERM', 0));
// The locks hang on the session's lease: without it the service must not go on writing.
void session.lost.then((state) => stop(`session lost: ${state.reason}`, 1));
