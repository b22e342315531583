import { EtcdctlProcess } from '../compat/etcdctl-process.js';
import type { SeenEvent } from './history-checks.js';

interface EtcdctlEvent {
  type?: number;
  kv: { key: string; value?: string; mod_revision: number };
}

/**
 * The reference history of a prefix, read by the real etcdctl (`watch --prefix --rev`, JSON output)
 * from one healthy member: every event from `fromRevision` through `toRevision`. An implementation
 * independent of the client under test.
 */
export async function etcdctlHistory(endpoint: string, prefix: string, fromRevision: bigint, toRevision: bigint, timeoutMs = 30_000): Promise<SeenEvent[]> {
  const watch = EtcdctlProcess.start(endpoint, ['watch', '--prefix', prefix, '--rev', String(fromRevision), '-w', 'json']);
  const events: SeenEvent[] = [];
  const parse = (text: string): void => {
    events.length = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith('{')) continue;
      const response = JSON.parse(line) as { Events?: EtcdctlEvent[] };
      for (const e of response.Events ?? []) {
        events.push({
          type: e.type === 1 ? 'delete' : 'put',
          key: Buffer.from(e.kv.key, 'base64').toString(),
          value: e.type === 1 ? '' : Buffer.from(e.kv.value ?? '', 'base64').toString(),
          revision: BigInt(e.kv.mod_revision),
        });
      }
    }
  };
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      // Only whole lines (one JSON response each) are parsed.
      parse(watch.stdout.slice(0, watch.stdout.lastIndexOf('\n') + 1));
      if ((events.at(-1)?.revision ?? 0n) >= toRevision) return events.filter((e) => e.revision <= toRevision);
      if (!watch.running) throw new Error(`etcdctl watch exited: ${watch.stderr}`);
      if (Date.now() > deadline) throw new Error(`etcdctl watch did not reach revision ${toRevision} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await watch.kill();
  }
}
