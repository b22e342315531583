import { runCairn } from './cli.js';
import { etcdApplication } from './etcd-application.js';

/**
 * The `cairn` server command. Plugins are loaded by package name at run time, so the core never
 * imports one: the defaults below are names, resolved like any plugin named in a config.
 */
const stopRequested = new Promise<string>((resolve) => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve(signal));
});

const code = await runCairn(
  process.argv.slice(2),
  etcdApplication,
  {
    storage: '@cairn/storage-lmdb',
    // One write and one fdatasync per append, on the main thread for a lone proposal (see its README).
    logStore: '@cairn/storage-wal',
    transportSingle: 'memory',
    transportCluster: '@cairn/transport-tcp',
    // The JSON gateway, /health and /metrics ride on the gRPC frontend's client port.
    api: ['@cairn/api-grpc', '@cairn/api-http'],
  },
  {
    cwd: process.cwd(),
    env: process.env,
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    progress: process.stderr,
    stopRequested,
  },
);
process.exitCode = code;
