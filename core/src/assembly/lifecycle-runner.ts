import type { LifecycleParticipant } from '../ports/lifecycle-participant.js';
import type { Logger } from '../ports/logger.js';

/** Orders participants so each starts after those it names in `after`; refuses unknown names and cycles. */
export function startOrder(participants: readonly LifecycleParticipant[]): LifecycleParticipant[] {
  const byName = new Map<string, LifecycleParticipant>();
  for (const p of participants) {
    if (byName.has(p.name)) throw new Error(`two lifecycle participants are named "${p.name}"`);
    byName.set(p.name, p);
  }
  const ordered: LifecycleParticipant[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (p: LifecycleParticipant, path: readonly string[]): void => {
    const seen = state.get(p.name);
    if (seen === 'done') return;
    if (seen === 'visiting') throw new Error(`lifecycle participants wait for each other: ${[...path, p.name].join(' -> ')}`);
    state.set(p.name, 'visiting');
    for (const name of p.after ?? []) {
      const before = byName.get(name);
      if (before === undefined) throw new Error(`lifecycle participant "${p.name}" starts after "${name}", which no participant is`);
      visit(before, [...path, p.name]);
    }
    state.set(p.name, 'done');
    ordered.push(p);
  };
  // Registration order breaks ties, so the order is the same at every start.
  for (const p of participants) visit(p, []);
  return ordered;
}

/** Starts participants in dependency order and stops the started ones in reverse: the one place that does it. */
export class LifecycleRunner {
  private started: LifecycleParticipant[] = [];

  constructor(private readonly logger: Logger) {}

  /** On a failure, stops what had started, then rethrows. */
  async start(participants: readonly LifecycleParticipant[]): Promise<void> {
    for (const p of startOrder(participants)) {
      try {
        await p.start();
      } catch (err) {
        await this.stop();
        throw err;
      }
      this.started.push(p);
    }
  }

  /** Idempotent; a participant that fails to stop is logged and the rest still stop. */
  async stop(): Promise<void> {
    const started = this.started.reverse();
    this.started = [];
    for (const p of started) {
      try {
        await p.stop();
      } catch (err) {
        this.logger.warn({ participant: p.name, error: String(err) }, 'did not stop cleanly');
      }
    }
  }
}
