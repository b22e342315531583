import { describeRegisterOp, stepRegister, type RegisterInput, type RegisterOutput, type RegisterState } from './register-model.js';

/** One client operation on one key, as a client saw it. */
export interface HistoryOperation {
  readonly client: number;
  readonly key: string;
  readonly input: RegisterInput;
  /** When the call was made. */
  readonly call: number;
  /**
   * When the answer arrived, with the answer. Both undefined when the call timed out or its answer
   * was lost: the operation may have taken effect at any point after `call`, or never. Calls that
   * failed in a way proving they had no effect are left out of the history altogether.
   */
  readonly return?: number;
  readonly output?: RegisterOutput;
}

export interface LinearizabilityResult {
  /** true: linearizable; false: not; 'unknown': the search gave up after `maxSteps`. */
  readonly ok: boolean | 'unknown';
  /** The key whose history failed (or could not be decided). */
  readonly key?: string;
  /** That key's operations, readable, in call order. */
  readonly detail?: string[];
}

export interface CheckOptions {
  /** Initial value of every key (default null: absent). */
  readonly initial?: RegisterState;
  /** Bound on search steps per key; past it the answer is 'unknown' (default 5,000,000). */
  readonly maxSteps?: number;
}

/**
 * Decides whether a register history is linearizable: Wing & Gong's search over which pending
 * call to linearize next, with Lowe's memoization of visited (linearized set, state) pairs, run
 * separately on each key (linearizability is compositional, so a history is linearizable exactly
 * when each key's sub-history is).
 */
export function checkLinearizable(history: readonly HistoryOperation[], options: CheckOptions = {}): LinearizabilityResult {
  const byKey = new Map<string, HistoryOperation[]>();
  for (const op of history) {
    let ops = byKey.get(op.key);
    if (ops === undefined) byKey.set(op.key, (ops = []));
    ops.push(op);
  }
  let undecided: LinearizabilityResult | undefined;
  for (const key of [...byKey.keys()].sort()) {
    const ops = byKey.get(key)!;
    const verdict = checkOneKey(ops, options.initial ?? null, options.maxSteps ?? 5_000_000);
    if (verdict === false) return { ok: false, key, detail: describe(ops) };
    if (verdict === 'unknown' && undecided === undefined) undecided = { ok: 'unknown', key, detail: describe(ops) };
  }
  return undecided ?? { ok: true };
}

function describe(ops: readonly HistoryOperation[]): string[] {
  return [...ops]
    .sort((a, b) => a.call - b.call)
    .map((op) => `client ${op.client} [${op.call}, ${op.return ?? '∞'}] ${describeRegisterOp(op.input, op.output)}`);
}

/** One call or return in the time-ordered history, linked so linearized calls can be lifted out. */
interface Event {
  readonly op: number;
  readonly isCall: boolean;
  readonly time: number;
  /** For a call: its return event. */
  match?: Event;
  prev?: Event;
  next?: Event;
}

function checkOneKey(ops: readonly HistoryOperation[], initial: RegisterState, maxSteps: number): boolean | 'unknown' {
  const events: Event[] = [];
  ops.forEach((op, i) => {
    const call: Event = { op: i, isCall: true, time: op.call };
    const ret: Event = { op: i, isCall: false, time: op.return ?? Infinity };
    call.match = ret;
    events.push(call, ret);
  });
  // Calls sort before returns at the same instant: operations that touch in time overlap.
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.op - b.op : a.isCall ? -1 : 1));
  const head: Event = { op: -1, isCall: false, time: -Infinity };
  let prev = head;
  for (const e of events) {
    prev.next = e;
    e.prev = prev;
    prev = e;
  }

  const lift = (call: Event): void => {
    call.prev!.next = call.next;
    if (call.next) call.next.prev = call.prev;
    const ret = call.match!;
    ret.prev!.next = ret.next;
    if (ret.next) ret.next.prev = ret.prev;
  };
  const unlift = (call: Event): void => {
    const ret = call.match!;
    ret.prev!.next = ret;
    if (ret.next) ret.next.prev = ret;
    call.prev!.next = call;
    if (call.next) call.next.prev = call;
  };

  const words = Math.ceil(ops.length / 32) || 1;
  const linearized = new Uint32Array(words);
  const seen = new Set<string>();
  const stack: { call: Event; state: RegisterState }[] = [];
  let state = initial;
  let entry = head.next;
  let steps = 0;
  while (head.next !== undefined) {
    if (++steps > maxSteps) return 'unknown';
    if (entry !== undefined && entry.isCall) {
      const op = ops[entry.op]!;
      const next = stepRegister(state, op.input, op.output);
      if (next !== undefined) {
        linearized[entry.op >> 5]! |= 1 << (entry.op & 31);
        const key = `${linearized.join(',')}|${next.state === null ? '\u0000' : next.state}`;
        if (!seen.has(key)) {
          seen.add(key);
          stack.push({ call: entry, state });
          state = next.state;
          lift(entry);
          entry = head.next;
          continue;
        }
        linearized[entry.op >> 5]! &= ~(1 << (entry.op & 31));
      }
      entry = entry.next;
    } else {
      // A return reached before its call was linearized: undo the last choice.
      const top = stack.pop();
      if (top === undefined) return false;
      state = top.state;
      linearized[top.call.op >> 5]! &= ~(1 << (top.call.op & 31));
      unlift(top.call);
      entry = top.call.next;
    }
  }
  return true;
}
